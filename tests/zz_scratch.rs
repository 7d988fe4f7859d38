#![allow(missing_docs)]
#[test]
fn scratch() {
    let mut doc = String::from("values:\n");
    for i in 0..20000 {
        doc.push_str(&format!("  # comment {i}\n  key{i}: value number {i} # trailing\n  list{i}: [a, \"b\", {{c: d}}]\n"));
    }
    let t = std::time::Instant::now();
    let out = escc::edit::apply_edits(&doc, &[]).unwrap();
    println!("{} bytes in, {} out, {:?}", doc.len(), out.len(), t.elapsed());
    let t = std::time::Instant::now();
    let _ = escc::syntax::parse(&escc::Source::new("x", doc.as_str()), &escc::Limits::default());
    println!("parse alone {:?}", t.elapsed());
}
