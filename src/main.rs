//! The `escc` command line.

fn main() -> std::process::ExitCode {
    escc::cli::main()
}
