//! `escc lsp`: the language server, over stdin and stdout.
//!
//! Diagnostics come from the path `escc check` takes (load, then a static evaluation whose
//! imports are served by the workspace, unsaved buffers first), so they have the same codes
//! and messages; hover, definition, completion and the outline read the same check's typed
//! environment; signature help reads the text. The server only checks: providers are never opened and secrets are never
//! decrypted or shown (`[secret]`). Positions are UTF-16 unless the client offers UTF-8.
//!
//! Standard output is the protocol: nothing else is ever written to it.

mod analysis;
mod completion;
mod convert;
mod definition;
mod host;
mod hover;
mod inputs;
mod scheduler;
mod server;
mod signature;
mod symbols;

use std::process::ExitCode;

use tower_lsp_server::{LspService, Server};

/// Serves the Language Server Protocol on stdin/stdout until the client says `exit` or
/// closes stdin.
#[must_use]
pub fn run() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("escc lsp: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let (service, socket) = LspService::new(server::Backend::new);
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // The stdin reader may still be blocked in a read: do not wait for it.
    runtime.shutdown_background();
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::analysis::tests::analyze_text;
    use super::convert::{Encoding, LineMap};
    use super::{completion, definition, hover, signature, symbols};

    /// Every feature at every character of awkward documents: no panic, whatever the input.
    #[test]
    fn no_panics_at_any_offset() {
        let docs = [
            "imports:\n  - base\n  - é/../x\nvalues:\n  a: \"é ${b.c[0][\"d\"]} 😀\"\n  b: {c: [{d: 1}]}\n",
            "values:\r\n  s: |\r\n    ${a.}${ }${\r\n  t: 'x ${b[\"\r\nimports: [",
            "values:\n  a: ${é.ü}\n  é:\n    fn::secret: s\n  b: $${x} ${a\n  - [\n",
            "imports: [base, \"é\", {x: {merge: false}}]\nvalues:\n  f: {fn::join: [\",\", [\"${a}\"]]}\n  g: fn::",
            "",
            "\u{feff}values: {a: 1}",
            "values:\n  c:\n    fn::open::aws-login:\n      oidc:\n        ro\n      static: {accessKeyId: ${x}}\n  d:\n    fn::open::\n  e: {fn::open::aws-secrets: {get: {\"é\": {}}}}\n",
            "values:\n  t:\n    fn::template:\n      fn::eval: ${t}\n  é: {fn::eval: {fn::template: \"${é}\"}}\n  c: {fn::conform: [\n",
        ];
        let base = [("base", "values:\n  x: {y: 1}\n")];
        for text in docs {
            let a = analyze_text("app", text, &base);
            let lines = LineMap::new(text);
            let envs = || vec!["base".to_owned(), "p/e".to_owned()];
            let others = |_: &str| None;
            let providers = || vec![("aws-login".to_owned(), "built-in provider".to_owned())];
            let data = completion::Data {
                name: "app",
                analysis: Some(&a),
                environments: &envs,
                others: &others,
                providers: &providers,
            };
            for offset in 0..=text.len() {
                let _ = completion::complete(text, offset, &data);
                let _ = hover::hover(&a, offset, &others);
                let _ = definition::definition(&a, offset);
                let _ = signature::signature_at(text, offset);
                for enc in [Encoding::Utf8, Encoding::Utf16] {
                    let p = lines.position(text, offset, enc);
                    let _ = lines.offset(text, p, enc);
                }
            }
            let outline = symbols::outline(a.syntax.as_ref(), text);
            let _ = symbols::to_lsp(&outline, text, &lines, Encoding::Utf16);
        }
    }
}
