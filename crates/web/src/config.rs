//! 設定 / Configuration (admins only): the site's hokan.toml as hokan
//! understood it, as `hokan config check` prints it
//! ([`hokan_site::Site::describe`]). It names the files that hold secrets
//! (the passphrase file, an S3 secret key's file), never what is in them;
//! nothing here reads those files.

use maud::html;

use crate::pages::{self, tr, Lang};
use crate::server::{Session, Shared};

/// The resolved configuration in a `<pre>`, or why hokan.toml cannot be
/// read (each problem at its line).
pub(crate) fn config(s: &Shared, l: Lang, who: &Session) -> String {
    let title = tr(l, "Configuration", "設定");
    let ja = l == Lang::Ja;
    let body = match hokan_site::load(&s.config.site) {
        Ok(site) => html! {
            p.small { (tr(l, "As hokan config check shows it, read from", "hokan config check と同じ内容です。設定ファイル:")) " " code { (site.file().display().to_string()) } }
            pre.config { (site.describe(ja)) }
        },
        Err(e) => html! {
            p.problem.error { (tr(l, "hokan.toml cannot be used:", "hokan.toml を使用できません:")) }
            pre.config { (e.render(ja)) }
        },
    };
    pages::page(l, title, Some(who), body)
}
