//! The dashboard's local accounts: a name, a role and an Argon2id password
//! hash, in a SQLite file of their own (the catalog stays the record of the
//! backups; the accounts are not part of it).
//!
//! Failed logins are counted per account: after [`LOCK_AFTER`] in a row the
//! account is locked for [`LOCK_FOR`], whatever password comes next. An
//! unknown name costs the same hash as a known one, so timing does not tell
//! which names exist, and both get the same answer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

/// Failed logins in a row that lock an account.
pub const LOCK_AFTER: u32 = 5;
/// How long a locked account stays locked.
pub const LOCK_FOR: Duration = Duration::from_secs(15 * 60);
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// What an account may do. Each role may do everything the ones before it
/// may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads every page; acts on nothing.
    Viewer,
    /// Also records media moves, attests and withdraws, runs jobs and
    /// drills, acknowledges alerts.
    Operator,
    /// Also sees the resolved configuration (secrets masked).
    Admin,
}

impl Role {
    /// The role's name as stored and typed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = AccountError;
    fn from_str(s: &str) -> Result<Role, AccountError> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(AccountError::NoSuchRole(other.to_owned())),
        }
    }
}

/// What can go wrong with accounts.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The accounts file cannot be opened or written.
    #[error("accounts file {path}: {source}")]
    Db {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// `add` of a name that exists.
    #[error(
        "an account named {0:?} exists already; use `hokan web user passwd` to change its password"
    )]
    Exists(String),
    /// A name that is not an account.
    #[error("no account named {0:?}; `hokan web user list` shows the accounts")]
    NoSuchAccount(String),
    /// A role that is not viewer, operator or admin.
    #[error("no role {0:?}: the roles are viewer, operator and admin")]
    NoSuchRole(String),
    /// A name with characters a log line or a page should not carry.
    #[error("account names are 1 to 64 letters, digits, '.', '_' or '-', not {0:?}")]
    BadName(String),
    /// A password too short.
    #[error("a password needs at least {MIN_PASSWORD} characters")]
    WeakPassword,
    /// Removing the last admin would leave nobody to manage accounts.
    #[error("{0:?} is the last admin account; add another admin first")]
    LastAdmin(String),
    /// The stored hash cannot be read (the file was edited by hand).
    #[error(
        "the password hash of {0:?} is damaged; set a new password with `hokan web user passwd`"
    )]
    DamagedHash(String),
}

impl AccountError {
    /// The message in Japanese.
    pub fn ja(&self) -> String {
        match self {
            AccountError::Db { path, source } => {
                format!("アカウントファイル {}: {source}", path.display())
            }
            AccountError::Exists(n) => format!(
                "アカウント {n:?} は既にあります。パスワードの変更は `hokan web user passwd` で行ってください"
            ),
            AccountError::NoSuchAccount(n) => format!(
                "アカウント {n:?} はありません。`hokan web user list` で一覧を確認してください"
            ),
            AccountError::NoSuchRole(r) => {
                format!("ロール {r:?} はありません。ロールは viewer、operator、admin です")
            }
            AccountError::BadName(n) => format!(
                "アカウント名は 1〜64 文字の英数字、'.'、'_'、'-' です（{n:?} は使えません）"
            ),
            AccountError::WeakPassword => {
                format!("パスワードは {MIN_PASSWORD} 文字以上にしてください")
            }
            AccountError::LastAdmin(n) => format!(
                "{n:?} は最後の admin アカウントです。先に別の admin を追加してください"
            ),
            AccountError::DamagedHash(n) => format!(
                "{n:?} のパスワードハッシュが壊れています。`hokan web user passwd` で設定し直してください"
            ),
        }
    }
}

/// Why a login was refused. The page says the same for both, so that a
/// guesser learns nothing; the event log says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Unknown name or wrong password.
    WrongNameOrPassword,
    /// Locked after too many failures, until the instant given (Unix
    /// seconds).
    Locked(i64),
}

/// One account, as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Account {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Failed logins in a row.
    pub failures: u32,
    /// Locked until this instant (Unix seconds), if locked.
    pub locked_until: Option<i64>,
}

/// The accounts file.
pub struct Accounts {
    conn: Connection,
    path: PathBuf,
}

fn check_name(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadName(name.to_owned()))
    }
}

fn hash(password: &str) -> String {
    if password.chars().count() < MIN_PASSWORD {
        // Callers check first; never store a weak one by accident.
        unreachable!("weak passwords are refused before hashing");
    }
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes of salt encode");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2id with default parameters")
        .to_string()
}

impl Accounts {
    /// Open (or create) the accounts file at `path`.
    pub fn open(path: &Path) -> Result<Accounts, AccountError> {
        let db = |source| AccountError::Db {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(db)?;
        // Password hashes: for the owner's eyes only.
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS account (
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL,
                phc TEXT NOT NULL,
                failures INTEGER NOT NULL DEFAULT 0,
                locked_until INTEGER
            );",
        )
        .map_err(db)?;
        Ok(Accounts {
            conn,
            path: path.to_owned(),
        })
    }

    fn db(&self, source: rusqlite::Error) -> AccountError {
        AccountError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// Add an account.
    pub fn add(&self, name: &str, role: Role, password: &str) -> Result<(), AccountError> {
        check_name(name)?;
        if password.chars().count() < MIN_PASSWORD {
            return Err(AccountError::WeakPassword);
        }
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO account (name, role, phc) VALUES (?1, ?2, ?3)",
                params![name, role.as_str(), hash(password)],
            )
            .map_err(|e| self.db(e))?;
        if n == 0 {
            return Err(AccountError::Exists(name.to_owned()));
        }
        Ok(())
    }

    /// Set an account's password; this also unlocks it.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), AccountError> {
        if password.chars().count() < MIN_PASSWORD {
            return Err(AccountError::WeakPassword);
        }
        let n = self
            .conn
            .execute(
                "UPDATE account SET phc = ?2, failures = 0, locked_until = NULL WHERE name = ?1",
                params![name, hash(password)],
            )
            .map_err(|e| self.db(e))?;
        if n == 0 {
            return Err(AccountError::NoSuchAccount(name.to_owned()));
        }
        Ok(())
    }

    /// Remove an account (never the last admin).
    pub fn remove(&self, name: &str) -> Result<(), AccountError> {
        let role = self.role_of(name)?;
        if role == Role::Admin {
            let admins: i64 = self
                .conn
                .query_row(
                    "SELECT count(*) FROM account WHERE role = 'admin'",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.db(e))?;
            if admins <= 1 {
                return Err(AccountError::LastAdmin(name.to_owned()));
            }
        }
        self.conn
            .execute("DELETE FROM account WHERE name = ?1", params![name])
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    fn role_of(&self, name: &str) -> Result<Role, AccountError> {
        let role: Option<String> = self
            .conn
            .query_row(
                "SELECT role FROM account WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.db(e))?;
        role.ok_or_else(|| AccountError::NoSuchAccount(name.to_owned()))?
            .parse()
    }

    /// Every account, by name.
    pub fn list(&self) -> Result<Vec<Account>, AccountError> {
        let mut st = self
            .conn
            .prepare("SELECT name, role, failures, locked_until FROM account ORDER BY name")
            .map_err(|e| self.db(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .map_err(|e| self.db(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, failures, locked_until) = row.map_err(|e| self.db(e))?;
            out.push(Account {
                name,
                role: role.parse()?,
                failures,
                locked_until,
            });
        }
        Ok(out)
    }

    /// Check a login at `now`: the account's role, or why not. Counts the
    /// failure and locks the account after [`LOCK_AFTER`] in a row; a
    /// success clears the count.
    pub fn login(
        &self,
        name: &str,
        password: &str,
        now: OffsetDateTime,
    ) -> Result<Result<Role, Refused>, AccountError> {
        type Row = (String, String, u32, Option<i64>);
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT role, phc, failures, locked_until FROM account WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| self.db(e))?;
        let Some((role, phc, failures, locked_until)) = row else {
            // The same work as for a known name.
            let _ = Argon2::default().verify_password(
                password.as_bytes(),
                &PasswordHash::new(DUMMY).expect("dummy hash parses"),
            );
            return Ok(Err(Refused::WrongNameOrPassword));
        };
        let now_s = now.unix_timestamp();
        if let Some(until) = locked_until.filter(|&u| u > now_s) {
            return Ok(Err(Refused::Locked(until)));
        }
        let parsed =
            PasswordHash::new(&phc).map_err(|_| AccountError::DamagedHash(name.to_owned()))?;
        if Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
        {
            self.conn
                .execute(
                    "UPDATE account SET failures = 0, locked_until = NULL WHERE name = ?1",
                    params![name],
                )
                .map_err(|e| self.db(e))?;
            return Ok(Ok(role.parse()?));
        }
        let failures = failures + 1;
        let lock = (failures >= LOCK_AFTER).then(|| now_s + LOCK_FOR.as_secs() as i64);
        self.conn
            .execute(
                "UPDATE account SET failures = ?2, locked_until = ?3 WHERE name = ?1",
                params![name, if lock.is_some() { 0 } else { failures }, lock],
            )
            .map_err(|e| self.db(e))?;
        Ok(Err(match lock {
            Some(until) => Refused::Locked(until),
            None => Refused::WrongNameOrPassword,
        }))
    }
}

/// An Argon2id hash of a password nobody has, verified against for unknown
/// names so that they cost the same time as known ones.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$lwjhuLRxAH6sFVgQxvGeY0sDpnl8x1vzqTE1i3spyBo";

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn add_login_passwd_remove() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::open(&dir.path().join("web.sqlite")).unwrap();
        a.add("tanaka", Role::Operator, "correct horse battery")
            .unwrap();
        assert!(matches!(
            a.add("tanaka", Role::Viewer, "another long password"),
            Err(AccountError::Exists(_))
        ));
        assert!(matches!(
            a.add("sato", Role::Viewer, "short"),
            Err(AccountError::WeakPassword)
        ));
        assert!(matches!(
            a.add("<script>", Role::Viewer, "long enough password"),
            Err(AccountError::BadName(_))
        ));
        assert_eq!(
            a.login("tanaka", "correct horse battery", at(0)).unwrap(),
            Ok(Role::Operator)
        );
        assert_eq!(
            a.login("tanaka", "wrong password!!", at(1)).unwrap(),
            Err(Refused::WrongNameOrPassword)
        );
        assert_eq!(
            a.login("nobody", "correct horse battery", at(2)).unwrap(),
            Err(Refused::WrongNameOrPassword)
        );
        a.set_password("tanaka", "a new long password").unwrap();
        assert_eq!(
            a.login("tanaka", "correct horse battery", at(3)).unwrap(),
            Err(Refused::WrongNameOrPassword)
        );
        assert_eq!(
            a.login("tanaka", "a new long password", at(4)).unwrap(),
            Ok(Role::Operator)
        );
        // The stored hash is Argon2id, never the password.
        let phc: String = a
            .conn
            .query_row("SELECT phc FROM account", [], |r| r.get(0))
            .unwrap();
        assert!(phc.starts_with("$argon2id$") && !phc.contains("a new long password"));
        a.remove("tanaka").unwrap();
        assert!(a.list().unwrap().is_empty());
        assert!(matches!(
            a.remove("tanaka"),
            Err(AccountError::NoSuchAccount(_))
        ));
    }

    #[test]
    fn five_failures_lock_the_account_even_against_the_right_password() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::open(&dir.path().join("web.sqlite")).unwrap();
        a.add("suzuki", Role::Viewer, "the right password").unwrap();
        for i in 0..LOCK_AFTER - 1 {
            assert_eq!(
                a.login("suzuki", "guess", at(i as i64)).unwrap(),
                Err(Refused::WrongNameOrPassword)
            );
        }
        let until = at(10).unix_timestamp() + LOCK_FOR.as_secs() as i64;
        assert_eq!(
            a.login("suzuki", "guess", at(10)).unwrap(),
            Err(Refused::Locked(until))
        );
        assert_eq!(
            a.login("suzuki", "the right password", at(11)).unwrap(),
            Err(Refused::Locked(until))
        );
        // After the lock runs out, the right password works again.
        let later = at(11 + LOCK_FOR.as_secs() as i64);
        assert_eq!(
            a.login("suzuki", "the right password", later).unwrap(),
            Ok(Role::Viewer)
        );
        assert_eq!(a.list().unwrap()[0].failures, 0);
    }

    #[test]
    fn the_last_admin_stays() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::open(&dir.path().join("web.sqlite")).unwrap();
        a.add("root1", Role::Admin, "first admin password").unwrap();
        assert!(matches!(a.remove("root1"), Err(AccountError::LastAdmin(_))));
        a.add("root2", Role::Admin, "second admin password")
            .unwrap();
        a.remove("root1").unwrap();
        assert_eq!(a.list().unwrap()[0].name, "root2");
    }

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY).is_ok());
    }
}
