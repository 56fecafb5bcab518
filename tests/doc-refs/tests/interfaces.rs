//! Every `docs/interfaces.md §N` cited anywhere in the repository names a section the
//! specification has.

use std::path::Path;

#[test]
fn every_cited_section_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dangling = cohesix_doc_refs::check_repository(&root).expect("repository readable");
    let report: Vec<String> = dangling
        .iter()
        .map(|d| format!("{}:{}: {}", d.file.display(), d.line, d.cited))
        .collect();
    assert!(
        report.is_empty(),
        "citations of docs/interfaces.md that lead nowhere:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_specification_is_numbered_from_ports_to_journal() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = std::fs::read_to_string(root.join(cohesix_doc_refs::SPEC)).expect("spec");
    let known = cohesix_doc_refs::sections(&spec);
    for n in 1..=12 {
        assert!(known.contains(&n.to_string()), "§{n} missing");
    }
}
