//! Embedding escc: evaluate an environment of a project directory and print its values,
//! or its diagnostics. `cargo run --example embed -- fixtures/examples app/dev`
//!
//! Builds without the command line: `cargo run --example embed --no-default-features`.

use escc::project::Project;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| "fixtures/examples".to_owned());
    let name = args.next().unwrap_or_else(|| "app/dev".to_owned());

    let project = Project::open(&dir)?;
    let env = project.evaluate(&project.host(), &name)?;
    for d in &env.diags {
        eprintln!("{}: {d}", d.environment);
    }
    if env.has_errors() {
        std::process::exit(1);
    }
    println!("{:#}", env.values_json(true));
    Ok(())
}
