//! The dashboard's local accounts: a name, a role and an Argon2id password
//! hash, in a SQLite file of their own (the catalog stays the record of the
//! backups; the accounts are not part of it).
//!
//! Failed logins are counted per account: after [`LOCK_AFTER`] in a row the
//! account is locked for [`LOCK_FOR`], whatever password comes next. An
//! unknown name costs the same hash as a known one, so timing does not tell
//! which names exist, and both get the same answer.
//!
//! An account may also have a second factor: a TOTP secret (RFC 6238,
//! SHA-1, 6 digits, 30 s, as authenticator apps use), set with
//! [`Accounts::enable_totp`]. Its login then needs the current code too; a
//! wrong or missing code is a failed login like a wrong password, and a
//! code once used is not accepted again.

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
/// A TOTP code's period, in seconds.
pub const TOTP_STEP: u64 = 30;

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
    /// A TOTP secret cannot be used (the file was edited by hand).
    #[error("a TOTP secret is damaged ({0}); set a new one with `hokan web user totp NAME`")]
    DamagedTotp(String),
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
            AccountError::DamagedTotp(e) => format!(
                "TOTP の秘密鍵が壊れています（{e}）。`hokan web user totp 名前` で設定し直してください"
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
    /// Whether its login needs a TOTP code too.
    pub totp: bool,
}

/// The TOTP generator of a secret (raw bytes).
fn totp(secret: Vec<u8>) -> Result<totp_rs::TOTP, AccountError> {
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 0, TOTP_STEP, secret)
        .map_err(|e| AccountError::DamagedTotp(e.to_string()))
}

/// The step of `code` among the current one and its neighbours (a clock
/// off by up to 30 s), never one at or before `last`, the step of the last
/// code accepted.
fn totp_step(secret: &str, code: &str, now: OffsetDateTime, last: Option<i64>) -> Option<i64> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .ok()?;
    let t = totp(bytes).ok()?;
    let now = u64::try_from(now.unix_timestamp()).ok()?;
    let step = (now / TOTP_STEP) as i64;
    [step - 1, step, step + 1]
        .into_iter()
        .filter(|s| *s >= 0 && last.is_none_or(|l| *s > l))
        .find(|s| t.check(code.trim(), *s as u64 * TOTP_STEP))
}

/// The current TOTP code of a base32 `secret` at `now` (for tests and for
/// checking an app's setup).
pub fn totp_code(secret: &str, now: OffsetDateTime) -> Result<String, AccountError> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| AccountError::DamagedTotp(format!("{e:?}")))?;
    Ok(totp(bytes)?.generate(now.unix_timestamp().max(0) as u64))
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
        // The second factor came later: files made before get the columns.
        let has_totp: bool = conn
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('account') WHERE name = 'totp'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db)?
            > 0;
        if !has_totp {
            conn.execute_batch(
                "ALTER TABLE account ADD COLUMN totp TEXT;
                 ALTER TABLE account ADD COLUMN totp_last INTEGER;",
            )
            .map_err(db)?;
        }
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

    /// Give an account a new TOTP secret: its logins need the code from
    /// then on. Returns the secret (base32) to enter in an authenticator
    /// app, and its `otpauth://` address.
    pub fn enable_totp(&self, name: &str) -> Result<(String, String), AccountError> {
        self.role_of(name)?;
        let mut raw = vec![0u8; 20];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut raw);
        let secret = totp_rs::Secret::Raw(raw).to_encoded().to_string();
        self.conn
            .execute(
                "UPDATE account SET totp = ?2, totp_last = NULL WHERE name = ?1",
                params![name, secret],
            )
            .map_err(|e| self.db(e))?;
        let uri = format!(
            "otpauth://totp/hokan:{name}?secret={secret}&issuer=hokan&algorithm=SHA1&digits=6&period={TOTP_STEP}"
        );
        Ok((secret, uri))
    }

    /// Take an account's TOTP secret away: its logins need the password
    /// only.
    pub fn disable_totp(&self, name: &str) -> Result<(), AccountError> {
        self.role_of(name)?;
        self.conn
            .execute(
                "UPDATE account SET totp = NULL, totp_last = NULL WHERE name = ?1",
                params![name],
            )
            .map_err(|e| self.db(e))?;
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
            .prepare(
                "SELECT name, role, failures, locked_until, totp IS NOT NULL FROM account ORDER BY name",
            )
            .map_err(|e| self.db(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, bool>(4)?,
                ))
            })
            .map_err(|e| self.db(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, failures, locked_until, totp) = row.map_err(|e| self.db(e))?;
            out.push(Account {
                name,
                role: role.parse()?,
                failures,
                locked_until,
                totp,
            });
        }
        Ok(out)
    }

    /// Check a login at `now` without a TOTP code (an account that has a
    /// second factor is refused): see [`Accounts::login_with_code`].
    pub fn login(
        &self,
        name: &str,
        password: &str,
        now: OffsetDateTime,
    ) -> Result<Result<Role, Refused>, AccountError> {
        self.login_with_code(name, password, None, now)
    }

    /// Check a login at `now`: the account's role, or why not. An account
    /// with a TOTP secret needs `code` too, one not used before. Counts
    /// the failure and locks the account after [`LOCK_AFTER`] in a row; a
    /// success clears the count.
    pub fn login_with_code(
        &self,
        name: &str,
        password: &str,
        code: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Result<Role, Refused>, AccountError> {
        type Row = (
            String,
            String,
            u32,
            Option<i64>,
            Option<String>,
            Option<i64>,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT role, phc, failures, locked_until, totp, totp_last FROM account WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()
            .map_err(|e| self.db(e))?;
        let Some((role, phc, failures, locked_until, secret, last)) = row else {
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
        let password_ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        // With a second factor: the code too, and never one used before.
        let second = match &secret {
            None => Some(last),
            Some(secret) => code.and_then(|c| totp_step(secret, c, now, last)).map(Some),
        };
        if let (true, Some(step)) = (password_ok, second) {
            self.conn
                .execute(
                    "UPDATE account SET failures = 0, locked_until = NULL, totp_last = ?2 WHERE name = ?1",
                    params![name, step],
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

    #[test]
    fn a_second_factor_needs_the_current_code_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::open(&dir.path().join("web.sqlite")).unwrap();
        a.add("tanaka", Role::Operator, "correct horse battery")
            .unwrap();
        let (secret, uri) = a.enable_totp("tanaka").unwrap();
        assert!(uri.starts_with("otpauth://totp/hokan:tanaka?secret=") && uri.contains(&secret));
        assert!(a.list().unwrap()[0].totp);
        let pw = "correct horse battery";
        // The password alone, or with a wrong code: refused, and counted.
        assert_eq!(
            a.login("tanaka", pw, at(0)).unwrap(),
            Err(Refused::WrongNameOrPassword)
        );
        assert_eq!(
            a.login_with_code("tanaka", pw, Some("000000"), at(0))
                .unwrap(),
            Err(Refused::WrongNameOrPassword)
        );
        assert_eq!(a.list().unwrap()[0].failures, 2);
        // The right code with a wrong password: refused.
        let code = totp_code(&secret, at(0)).unwrap();
        assert_eq!(
            a.login_with_code("tanaka", "wrong password!!", Some(&code), at(0))
                .unwrap(),
            Err(Refused::WrongNameOrPassword)
        );
        // Both: in; the count is cleared.
        assert_eq!(
            a.login_with_code("tanaka", pw, Some(&code), at(0)).unwrap(),
            Ok(Role::Operator)
        );
        assert_eq!(a.list().unwrap()[0].failures, 0);
        // The same code again (someone who saw it): refused.
        assert_eq!(
            a.login_with_code("tanaka", pw, Some(&code), at(1)).unwrap(),
            Err(Refused::WrongNameOrPassword)
        );
        // The next period's code, and a clock 30 s behind, are accepted.
        let next = totp_code(&secret, at(30)).unwrap();
        assert_eq!(
            a.login_with_code("tanaka", pw, Some(&next), at(55))
                .unwrap(),
            Ok(Role::Operator)
        );
        // A code from five minutes ago: refused.
        let old = totp_code(&secret, at(300)).unwrap();
        assert_eq!(
            a.login_with_code("tanaka", pw, Some(&old), at(600))
                .unwrap(),
            Err(Refused::WrongNameOrPassword)
        );
        // Taken away: the password alone again.
        a.disable_totp("tanaka").unwrap();
        assert_eq!(a.login("tanaka", pw, at(700)).unwrap(), Ok(Role::Operator));
        assert!(matches!(
            a.enable_totp("nobody"),
            Err(AccountError::NoSuchAccount(_))
        ));
    }

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
