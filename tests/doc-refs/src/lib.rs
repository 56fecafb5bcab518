//! The interface specification's numbered sections, and the citations of them elsewhere.
//!
//! `docs/interfaces.md` numbers its headings `## §N Title` and `### §N.M Title`. Code and docs
//! cite them as `docs/interfaces.md §N` (or `§N.M`); inside the specification a bare `§N`
//! refers to its own sections. Any other `§` outside the specification, and any mention of an
//! `INTERFACES.md` (a file the repository does not have), is a citation that leads nowhere.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where the specification lives, relative to the repository root.
pub const SPEC: &str = "docs/interfaces.md";

/// Folders never scanned: build output, history, fuzzing output, and this crate (whose tests
/// hold deliberately dangling citations).
const SKIP_DIRS: [&str; 5] = ["target", ".git", "corpus", "artifacts", "doc-refs"];
/// Files scanned for citations, by extension.
const EXTENSIONS: [&str; 5] = ["rs", "md", "toml", "sh", "txt"];

/// A citation that points nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dangling {
    pub file: PathBuf,
    pub line: usize,
    pub cited: String,
}

/// The section numbers (`"3"`, `"3.4"`) the specification's headings define.
pub fn sections(spec: &str) -> BTreeSet<String> {
    spec.lines()
        .filter(|line| line.starts_with('#'))
        .filter_map(|line| {
            let rest = line.trim_start_matches('#').trim_start();
            let number = rest.strip_prefix('§')?;
            let end = number
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(number.len());
            let number = number[..end].trim_end_matches('.');
            (!number.is_empty()).then(|| number.to_string())
        })
        .collect()
}

/// The section number right after a `§` at byte `at` of `line`, if any.
fn number_after(line: &str, at: usize) -> String {
    let rest = &line[at + '§'.len_utf8()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].trim_end_matches('.').to_string()
}

/// Citations in `text` that do not resolve. `in_spec` allows bare `§N` references.
pub fn check_text(text: &str, in_spec: bool, known: &BTreeSet<String>) -> Vec<(usize, String)> {
    let mut bad = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.contains("INTERFACES.md") {
            bad.push((line_no, String::from("INTERFACES.md")));
        }
        for (at, _) in line.match_indices('§') {
            let number = number_after(line, at);
            if number.is_empty() {
                // `§N` as a placeholder in prose, not a citation.
                continue;
            }
            let before = &line[..at];
            let cites_spec = before.trim_end().ends_with("interfaces.md")
                || before.trim_end().ends_with("interfaces.md)")
                || before.trim_end().ends_with("interfaces.md](interfaces.md)")
                || before.ends_with("[docs/interfaces.md ");
            if !(in_spec || cites_spec) {
                bad.push((line_no, format!("§{number} without docs/interfaces.md")));
            } else if !known.contains(&number) {
                bad.push((line_no, format!("§{number}")));
            }
        }
    }
    bad
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if !SKIP_DIRS.contains(&name.as_ref()) {
                walk(&path, out)?;
            }
        } else if path
            .extension()
            .is_some_and(|e| EXTENSIONS.iter().any(|x| e == *x))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Every dangling citation in the repository at `root`.
pub fn check_repository(root: &Path) -> io::Result<Vec<Dangling>> {
    let spec_path = root.join(SPEC);
    let known = sections(&fs::read_to_string(&spec_path)?);
    let mut files = Vec::new();
    walk(root, &mut files)?;
    files.sort();
    let mut dangling = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let in_spec = file == spec_path;
        for (line, cited) in check_text(&text, in_spec, &known) {
            dangling.push(Dangling {
                file: file.strip_prefix(root).unwrap_or(&file).to_path_buf(),
                line,
                cited,
            });
        }
    }
    Ok(dangling)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_TEXT: &str = "# Title\n## §1 Ports\n### §1.3 Refusals\n## §12 Journal\n";

    #[test]
    fn headings_define_sections() {
        let known = sections(SPEC_TEXT);
        assert_eq!(known.into_iter().collect::<Vec<_>>(), ["1", "1.3", "12"]);
    }

    #[test]
    fn citations_resolve_or_are_reported() {
        let known = sections(SPEC_TEXT);
        let ok = "//! Refusals (docs/interfaces.md §1.3) and the journal (docs/interfaces.md §12).";
        assert!(check_text(ok, false, &known).is_empty());
        let missing = "/// Limits (docs/interfaces.md §3).";
        assert_eq!(
            check_text(missing, false, &known),
            [(1, String::from("§3"))]
        );
        let old = "/// Roles of INTERFACES.md §1.";
        assert_eq!(check_text(old, false, &known).len(), 2);
        let bare = "see §12 for more";
        assert_eq!(check_text(bare, false, &known).len(), 1);
        assert!(check_text(bare, true, &known).is_empty());
        let link = "Per [docs/interfaces.md §12](interfaces.md):";
        assert!(check_text(link, false, &known).is_empty());
    }
}
