//! `sluice dlq list|replay -c FILE`: the dead-letter store of a configuration, shown as a
//! table or replayed through the current chain into the buffer (offline: the gateway
//! must be stopped, since it holds the buffer's lock).

use anyhow::Context as _;
use sluice::config::{BufferKind, Config};
use sluice::dead_letter::{DeadLetters, EntryMeta};
use sluice::replay::{EntryResult, Selection};
use sluice::telemetry::Metrics;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// Longest error text shown in the table.
const ERROR_WIDTH: usize = 80;

/// Prints every entry, oldest first.
pub(crate) fn list(path: &Path) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    let store = DeadLetters::open(&config.dead_letter_dir())?;
    let entries = store.list()?;
    if entries.is_empty() {
        return super::stdout::write(&format!(
            "no dead-lettered batches in {}\n",
            store.dir().display()
        ));
    }
    super::stdout::write(&format!(
        "{}{} entr{} in {}; replay with `sluice dlq replay -c {} --id ID` or `--all`\n",
        table(&entries),
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" },
        store.dir().display(),
        path.display()
    ))
}

/// The entries as an aligned text table.
fn table(entries: &[EntryMeta]) -> String {
    let header = [
        "ID", "CREATED", "STAGE", "SOURCE", "DB", "POINTS", "STATUS", "ERROR",
    ];
    let rows: Vec<[String; 8]> = entries
        .iter()
        .map(|e| {
            let created = UNIX_EPOCH + Duration::from_millis(e.created_ms);
            let db = match &e.rp {
                Some(rp) => format!("{}/{}", e.db, rp),
                None => e.db.clone(),
            };
            [
                e.id.clone(),
                humantime::format_rfc3339_seconds(created).to_string(),
                e.stage.clone(),
                e.source.clone(),
                db,
                e.points.to_string(),
                e.status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                one_line(&e.error, ERROR_WIDTH),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

/// `text` on one line, cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// Replays the chosen entries through the configured chain into the buffer.
pub(crate) fn replay(path: &Path, ids: Vec<String>, all: bool) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    let store = DeadLetters::open(&config.dead_letter_dir())?;
    let selection = if all {
        Selection::All
    } else {
        Selection::Ids(ids)
    };
    anyhow::ensure!(
        config.buffer.kind == BufferKind::Disk,
        "replay needs the disk buffer: a {:?} buffer would lose the batches when this command exits",
        config.buffer.kind
    );
    // The buffer's lock first: it proves no gateway runs on this config, so opening the
    // chain's kv store next cannot race one.
    let outputs: Vec<String> = config.outputs.iter().map(|o| o.name.clone()).collect();
    let queue = sluice::buffer::open(&config.buffer, &outputs).with_context(|| {
        format!(
            "cannot open the buffer at {} (a running gateway holds it: stop it, replay, start it again)",
            config.buffer.dir().display()
        )
    })?;
    let chain = sluice::chain::load(&config, Arc::new(Metrics::new()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (mut replayed, mut failed, mut points) = (0usize, 0usize, 0usize);
    let result =
        runtime.block_on(async {
            let result =
                sluice::replay::replay(&store, &selection, &chain, &queue, |meta, result| {
                    match result {
                        EntryResult::Replayed { points: n } => {
                            replayed += 1;
                            points += n;
                            println!("replayed {} ({} points into the buffer)", meta.id, n);
                        }
                        EntryResult::Failed { error } => {
                            failed += 1;
                            println!(
                                "kept     {} (the chain failed again: {})",
                                meta.id,
                                one_line(error, ERROR_WIDTH)
                            );
                        }
                    }
                })
                .await;
            let closed = queue.close().await;
            result.map_err(anyhow::Error::from)?;
            closed.context("closing the buffer")
        });
    result?;
    println!("{replayed} replayed ({points} points), {failed} kept");
    if failed > 0 {
        anyhow::bail!(
            "{failed} entr{} could not be replayed",
            if failed == 1 { "y" } else { "ies" }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_aligned_and_errors_are_flattened() {
        let entry = EntryMeta {
            id: "0001".into(),
            created_ms: 0,
            stage: "plugin".into(),
            source: "evil".into(),
            plugin_sha256: None,
            db: "e".into(),
            rp: Some("raw".into()),
            points: 100,
            status: None,
            error: "plugin \"evil\" ran past\nits timeout".into(),
            origin: Default::default(),
        };
        let t = table(&[entry]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("ID    CREATED"), "{t}");
        assert!(
            lines[1].contains("1970-01-01T00:00:00Z  plugin  evil    e/raw  100     -"),
            "{t}"
        );
        assert!(lines[1].ends_with("ran past its timeout"), "{t}");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }
}
