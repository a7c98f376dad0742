//! 媒体 / Media: every medium the catalog knows, where it is now, its 項番
//! now, its copies and condition, and above the table a picture of each
//! tape library and RDX autoloader: its slots, drives and mail slot, each
//! with the cartridge the catalog last saw there.
//!
//! The picture is built from the catalog's current observations only; the
//! devices are not asked (the morning page asks them). A library has as
//! many slots as the highest slot number seen (an autoloader at least as
//! many as the pool configures), and as many drives as the highest drive
//! seen or configured.

use std::collections::BTreeMap;

use hokan_offline::{Condition, Location, MediumState, ObservedBy, Verdict};
use maud::{html, Markup};

use crate::pages::{self, tr, Lang, Pick};
use crate::server::{Session, Shared};

/// What a changer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Changer {
    /// A tape library or LTO autoloader (slots, drives, a mail slot).
    Library,
    /// An RDX autoloader (an active slot, inactive slots).
    Autoloader,
}

/// One changer as the catalog last saw it.
#[derive(Debug)]
pub(crate) struct Device<'a> {
    /// Library or autoloader.
    pub(crate) changer: Changer,
    /// Its name in the catalog's observations.
    pub(crate) name: String,
    /// The pools configured on it.
    pub(crate) pools: Vec<String>,
    /// How many storage slots to draw.
    pub(crate) slot_count: u32,
    /// What is in each numbered slot.
    pub(crate) slots: BTreeMap<u32, Vec<&'a MediumState>>,
    /// How many drives to draw (libraries).
    pub(crate) drive_count: u32,
    /// What is in each drive (libraries).
    pub(crate) drives: BTreeMap<u32, Vec<&'a MediumState>>,
    /// What is in the mail slot (libraries).
    pub(crate) mail: Vec<&'a MediumState>,
    /// What is in the active slot (autoloaders).
    pub(crate) active: Vec<&'a MediumState>,
    /// In a slot whose number is not known.
    pub(crate) unnumbered: Vec<&'a MediumState>,
    /// The pools' media that are not inside it.
    pub(crate) outside: Vec<&'a MediumState>,
}

impl<'a> Device<'a> {
    fn new(changer: Changer, name: String) -> Device<'a> {
        Device {
            changer,
            name,
            pools: Vec::new(),
            slot_count: 0,
            slots: BTreeMap::new(),
            drive_count: 0,
            drives: BTreeMap::new(),
            mail: Vec::new(),
            active: Vec::new(),
            unnumbered: Vec::new(),
            outside: Vec::new(),
        }
    }
}

/// The library and drive index of a library drive's name
/// (`<library>-drive<N>`, as the tape jobs name it).
fn library_drive(drive: &str) -> Option<(&str, u32)> {
    let (library, n) = drive.rsplit_once("-drive")?;
    Some((library, n.parse().ok()?))
}

/// Which changer a location is inside, and where in it.
fn changer_of(location: &Location) -> Option<(Changer, &str)> {
    match location {
        Location::LibrarySlot { library, .. } | Location::MailSlot { library } => {
            Some((Changer::Library, library.as_str()))
        }
        Location::InDrive { drive } => {
            library_drive(drive.as_str()).map(|(lib, _)| (Changer::Library, lib))
        }
        Location::ActiveSlot { autoloader } | Location::InactiveSlot { autoloader, .. } => {
            Some((Changer::Autoloader, autoloader.as_str()))
        }
        _ => None,
    }
}

fn location(m: &MediumState) -> Option<&Location> {
    m.location.as_ref().map(|o| &o.location)
}

/// Every tape pool in library mode and every disk pool with autoloader
/// slots, as pictures of their changers, from the catalog's current
/// observations of `media`. A changer two pools share is drawn once; it
/// shows every medium the catalog saw in it, of any pool.
pub(crate) fn devices<'a>(site: &hokan_site::Site, media: &'a [MediumState]) -> Vec<Device<'a>> {
    use hokan_site::{DiskMode, TapeMode, TargetKind};
    let mut found: BTreeMap<(Changer, String), Device<'a>> = BTreeMap::new();
    for target in site.targets() {
        let pool = target.name.as_str();
        let (changer, fallback, slots, drives) = match &target.kind {
            TargetKind::TapePool(t) if t.mode == TapeMode::Library => {
                (Changer::Library, t.changer.clone(), 0, t.drive + 1)
            }
            TargetKind::DiskPool(d) if d.mode == DiskMode::RdxAutoloader && !d.slots.is_empty() => {
                (
                    Changer::Autoloader,
                    d.device.clone(),
                    u32::try_from(d.slots.len()).unwrap_or(u32::MAX),
                    0,
                )
            }
            _ => continue,
        };
        let mut names: Vec<String> = media
            .iter()
            .filter(|m| m.pool.as_ref().map(|p| p.as_str()) == Some(pool))
            .filter_map(|m| changer_of(location(m)?))
            .filter(|(c, _)| *c == changer)
            .map(|(_, n)| n.to_owned())
            .chain(fallback.filter(|_| changer == Changer::Library))
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            names.push(pool.to_owned());
        }
        for name in names {
            let d = found
                .entry((changer, name.clone()))
                .or_insert_with(|| Device::new(changer, name));
            d.pools.push(pool.to_owned());
            d.slot_count = d.slot_count.max(slots);
            d.drive_count = d.drive_count.max(drives);
        }
    }
    for m in media {
        let Some(at) = location(m) else { continue };
        let Some((changer, name)) = changer_of(at) else {
            continue;
        };
        let Some(d) = found.get_mut(&(changer, name.to_owned())) else {
            continue;
        };
        match at {
            Location::LibrarySlot { slot: Some(n), .. }
            | Location::InactiveSlot { slot: Some(n), .. } => {
                d.slot_count = d.slot_count.max(*n);
                d.slots.entry(*n).or_default().push(m);
            }
            Location::LibrarySlot { slot: None, .. }
            | Location::InactiveSlot { slot: None, .. } => d.unnumbered.push(m),
            Location::MailSlot { .. } => d.mail.push(m),
            Location::ActiveSlot { .. } => d.active.push(m),
            Location::InDrive { drive } => {
                if let Some((_, n)) = library_drive(drive.as_str()) {
                    d.drive_count = d.drive_count.max(n.saturating_add(1));
                    d.drives.entry(n).or_default().push(m);
                }
            }
            _ => {}
        }
    }
    for ((changer, name), d) in &mut found {
        d.outside = media
            .iter()
            .filter(|m| {
                m.pool
                    .as_ref()
                    .is_some_and(|p| d.pools.iter().any(|x| x == p.as_str()))
            })
            .filter(|m| location(m).and_then(changer_of) != Some((*changer, name.as_str())))
            .collect();
    }
    found.into_values().collect()
}

/// The medium's 項番 now, or why none: the word and whether it is good.
fn now_koban(l: Lang, v: Option<&Verdict>) -> (String, &'static str) {
    match v {
        Some(Verdict::Offline { koban, .. }) => (koban.as_str().to_owned(), "ok"),
        Some(Verdict::Online(_)) => (tr(l, "online", "オンライン").to_owned(), "bad"),
        Some(Verdict::Unknown(_)) => (tr(l, "unknown", "不明").to_owned(), "bad"),
        None => (tr(l, "per copy", "コピーごと").to_owned(), "none"),
    }
}

fn condition(l: Lang, c: Condition) -> &'static str {
    match c {
        Condition::Writable => tr(l, "writable", "書込可"),
        Condition::Full => tr(l, "full", "満杯"),
        Condition::Damaged => tr(l, "damaged", "損傷"),
        Condition::Retired => tr(l, "retired", "廃棄"),
    }
}

fn observer(l: Lang, by: &ObservedBy) -> String {
    match (by, l) {
        (ObservedBy::Device { device }, Lang::En) => format!("device {device}"),
        (ObservedBy::Device { device }, Lang::Ja) => format!("装置 {device}"),
        (ObservedBy::Person { person }, Lang::En) => format!("recorded by {person}"),
        (ObservedBy::Person { person }, Lang::Ja) => format!("{person} が記録"),
    }
}

/// One box of the picture: what it is and the cartridges in it (more than
/// one means the catalog's records disagree).
fn bay(l: Lang, class: &str, place: &str, label: &str, inside: &[&MediumState]) -> Markup {
    let state = match inside {
        [] => "empty",
        [m] if m.verdict.as_ref().is_some_and(Verdict::is_offline) => "ok",
        _ => "bad",
    };
    html! {
        div class={ "bay " (class) " " (state) } data-place=(place) {
            span.where { (label) }
            @if inside.is_empty() {
                span.barcode.none { (tr(l, "empty", "空き")) }
            }
            @for m in inside {
                span.barcode { (m.id.to_string()) }
            }
        }
    }
}

fn picture(l: Lang, d: &Device<'_>, site: &hokan_site::Site) -> Markup {
    let (what, outside) = match d.changer {
        Changer::Library => (
            tr(l, "Library", "ライブラリ"),
            tr(l, "Outside the library", "ライブラリの外"),
        ),
        Changer::Autoloader => (
            tr(l, "Autoloader", "オートローダ"),
            tr(l, "Outside the autoloader", "オートローダの外"),
        ),
    };
    let slot = |n: u32| match l {
        Lang::En => format!("slot {n}"),
        Lang::Ja => format!("スロット {n}"),
    };
    let none: Vec<&MediumState> = Vec::new();
    html! {
        section.device {
            h3 { (what) " " (d.name) " — " (tr(l, "pool", "プール")) " " (d.pools.join(", ")) }
            div.bays {
                @for n in 0..d.drive_count {
                    (bay(l, "drive", &format!("drive-{n}"), &match l { Lang::En => format!("drive {n}"), Lang::Ja => format!("ドライブ {n}") }, d.drives.get(&n).unwrap_or(&none)))
                }
                @if d.changer == Changer::Autoloader {
                    (bay(l, "drive", "active", tr(l, "active slot", "アクティブスロット"), &d.active))
                }
                @for n in 1..=d.slot_count {
                    (bay(l, "slot", &format!("slot-{n}"), &slot(n), d.slots.get(&n).unwrap_or(&none)))
                }
                @if !d.unnumbered.is_empty() {
                    (bay(l, "slot", "slot-unknown", tr(l, "slot (number unknown)", "スロット（番号不明）"), &d.unnumbered))
                }
                @if d.changer == Changer::Library {
                    (bay(l, "mail", "mail", tr(l, "mail slot", "メールスロット"), &d.mail))
                }
            }
            @if d.slot_count == 0 && d.unnumbered.is_empty() {
                p.small { (tr(l, "No cartridge of this device has been seen in a slot yet, so its slots are not drawn.", "この装置のスロットにカートリッジが確認されたことがないため、スロットは表示していません。")) }
            }
            @if !d.outside.is_empty() {
                h4 { (outside) }
                ul.outside {
                    @for m in &d.outside {
                        li data-medium=(m.id.to_string()) {
                            strong { (m.id.to_string()) } " — "
                            (where_now(l, m, site))
                        }
                    }
                }
            }
        }
    }
}

fn where_now(l: Lang, m: &MediumState, site: &hokan_site::Site) -> Markup {
    html! {
        @match &m.location {
            Some(o) => {
                (o.location.describe().pick(l))
                br;
                span.small { (observer(l, &o.by)) ", " (pages::when(o.at, site)) }
            }
            None if m.kind.is_carried() => span.bad { (tr(l, "no record of where it is", "場所の記録がありません")) },
            None => span.small { "—" },
        }
    }
}

/// 媒体 / Media: the pictures of the changers, then every medium.
pub(crate) fn media(s: &Shared, l: Lang, who: &Session) -> String {
    let title = tr(l, "Media", "媒体");
    let j = match pages::judge(s, false) {
        Ok(j) => j,
        Err(e) => return pages::error_page(l, title, who, &e),
    };
    let (site, ev) = (&j.site, &j.ev);
    let devices = devices(site, &ev.media);
    let body = html! {
        (pages::verdict_line(l, ev, site))
        (pages::untrusted(l, ev))
        p.small { (tr(l, "Where each medium is by the catalog's newest record; the devices are not asked here (the morning page asks them).", "各媒体の場所はカタログの最新の記録によります。このページでは装置に問い合わせません（朝の確認ページで問い合わせます）。")) }
        @for d in &devices {
            (picture(l, d, site))
        }
        h2 { (tr(l, "Every medium", "すべての媒体")) }
        table.media {
            thead { tr {
                th { (tr(l, "medium", "媒体")) }
                th { (tr(l, "kind", "種類")) }
                th { (tr(l, "pool", "プール")) }
                th { (tr(l, "where it is now", "現在の場所")) }
                th { (tr(l, "項番 now", "現在の項番")) }
                th { (tr(l, "complete copies", "完全なコピー")) }
                th { (tr(l, "condition", "状態")) }
            } }
            tbody {
                @for m in &ev.media {
                    @let (koban, class) = now_koban(l, m.verdict.as_ref());
                    tr data-medium=(m.id.to_string()) {
                        td { strong { (m.id.to_string()) } }
                        td { (tr(l, m.kind.name_en(), m.kind.name_ja())) }
                        td { (m.pool.as_ref().map_or_else(|| "—".to_owned(), ToString::to_string)) }
                        td { (where_now(l, m, site)) }
                        td.koban.(class) { (koban) }
                        td { (m.complete_copies) }
                        td class=[(!m.condition.can_restore()).then_some("bad")] { (condition(l, m.condition)) }
                    }
                }
            }
        }
    };
    pages::page(l, title, Some(who), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_drives_are_read_from_their_names() {
        assert_eq!(library_drive("vtl-w-drive0"), Some(("vtl-w", 0)));
        assert_eq!(library_drive("/dev/sg3-drive12"), Some(("/dev/sg3", 12)));
        assert_eq!(library_drive("/dev/nst0"), None);
        assert_eq!(library_drive("lib-drivex"), None);
    }
}
