use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::schema::Schema;

/// The providers issue 16 names, plus `doppler-login`, which the `doppler-secrets` example
/// opens.
const NAMED: [&str; 14] = [
    "1password-secrets",
    "aws-login",
    "aws-parameter-store",
    "aws-secrets",
    "azure-login",
    "azure-secrets",
    "doppler-login",
    "doppler-secrets",
    "gcp-login",
    "gcp-secrets",
    "infisical-login",
    "infisical-secrets",
    "vault-login",
    "vault-secrets",
];

#[test]
fn the_table_has_every_named_provider_once_sorted_and_compiling() {
    assert_eq!(builtin_names().collect::<Vec<_>>(), NAMED);
    for name in NAMED {
        let (inputs, outputs) = builtin_schema(name).unwrap();
        for (what, s) in [("inputs", &inputs), ("outputs", &outputs)] {
            Schema::from_json(s)
                .and_then(|s| s.compile())
                .unwrap_or_else(|e| panic!("{name} {what}: {e}"));
            assert_eq!(s["type"], "object", "{name} {what}");
        }
        // Every input object is closed, so a misspelt key is reported.
        assert_eq!(inputs["additionalProperties"], false, "{name}");
    }
    assert!(builtin_schema("aws-logn").is_none());
}

#[test]
fn every_provider_has_a_documented_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/providers/docs");
    let mut texts = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            texts.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    for name in NAMED {
        assert!(
            texts.contains(&format!("fn::open::{name}:")),
            "no example opens {name}"
        );
    }
    for name in ROTATORS {
        assert!(
            texts.contains(&format!("fn::rotate::{name}:")),
            "no example rotates with {name}"
        );
    }
}

/// The rotators issue 17 names.
const ROTATORS: [&str; 3] = ["aws-iam", "mysql", "postgres"];

#[test]
fn the_rotator_table_has_every_named_rotator_sorted_and_compiling() {
    assert_eq!(builtin_rotator_names().collect::<Vec<_>>(), ROTATORS);
    for name in ROTATORS {
        let (inputs, state, outputs) = builtin_rotator_schema(name).unwrap();
        for (what, s) in [
            ("inputs", &inputs),
            ("state", &state),
            ("outputs", &outputs),
        ] {
            Schema::from_json(s)
                .and_then(|s| s.compile())
                .unwrap_or_else(|e| panic!("{name} {what}: {e}"));
            assert_eq!(s["type"], "object", "{name} {what}");
            assert_eq!(s["additionalProperties"], false, "{name} {what}");
        }
        // A state is optional: before the first rotation there is none.
        assert!(state.get("required").is_none(), "{name}");
    }
    assert!(builtin_rotator_schema("aws-login").is_none());
    assert!(builtin_schema("aws-iam").is_none());
}

#[test]
fn plugin_names_cannot_hold_a_path() {
    for ok in ["aws-login", "my_provider", "x.v2", "1password"] {
        assert!(is_plugin_name(ok), "{ok}");
    }
    for bad in ["", ".", "..", ".hidden", "a/b", "../x", "a b", "é", "a\\b"] {
        assert!(!is_plugin_name(bad), "{bad}");
    }
}

#[test]
fn builtins_fail_to_open_naming_themselves() {
    let catalog = Catalog::new(None, &BTreeMap::new()).with_search_path(None);
    let p = catalog.provider("vault-login").unwrap().unwrap();
    let empty = Value::object([]);
    let err = p.open(&empty, &empty).unwrap_err();
    // With the providers feature it opens, so its own error names it and the input.
    let expected = if cfg!(feature = "providers") {
        "vault-login: address: missing"
    } else {
        "provider \"vault-login\" is not implemented yet"
    };
    assert!(err.starts_with(expected), "{err}");
    assert!(catalog.provider("nope").is_none());
    assert!(catalog.rotator("aws-login").is_none());
    assert_eq!(
        catalog.unknown("provider", "nope").unwrap(),
        "unknown provider \"nope\": escc has no built-in provider of that name, no escc-provider-nope is on PATH, and escc.toml configures no [providers.nope]; a plugin can serve it (see docs/providers.md, \"Plugins\")"
    );
    assert!(
        catalog
            .unknown("provider", "aws-logn")
            .unwrap()
            .starts_with("unknown provider \"aws-logn\": did you mean \"aws-login\"? escc has no")
    );
    // A misspelt rotator is offered the built-in rotator, never a provider.
    assert!(
        catalog
            .unknown("rotator", "postgress")
            .unwrap()
            .starts_with("unknown rotator \"postgress\": did you mean \"postgres\"? escc has no")
    );
    assert!(
        !catalog
            .unknown("rotator", "aws-logn")
            .unwrap()
            .contains("did you mean")
    );
    assert!(
        catalog.unknown("rotator", "a/b").unwrap().ends_with(
            "and the name cannot name a plugin (ASCII letters, digits, '-', '_' and '.')"
        )
    );
    // A plugin escc.toml configures is not unknown, even where it may not run.
    let configured = BTreeMap::from([(
        "mine".to_owned(),
        PluginConfig {
            command: vec!["./mine.sh".to_owned()],
            timeout: None,
        },
    )]);
    let catalog = Catalog::new(None, &configured).with_search_path(None);
    assert_eq!(catalog.unknown("provider", "mine"), None);
    assert!(
        catalog
            .missing_reason("provider", "mine")
            .contains("--allow-plugins")
    );
}

#[cfg(unix)]
#[test]
fn plugins_are_found_on_absolute_path_entries_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("escc-provider-echo");
    std::fs::write(&bin, "#!/bin/sh\n").unwrap();
    let catalog =
        |path: &str| Catalog::new(None, &BTreeMap::new()).with_search_path(Some(path.into()));
    // Not executable: not a plugin.
    assert!(
        catalog(dir.path().to_str().unwrap())
            .find_on_path("echo")
            .is_none()
    );
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let found = catalog(dir.path().to_str().unwrap()).find_on_path("echo");
    assert_eq!(found.as_deref(), Some(bin.as_path()));
    // A relative entry would make the program depend on the current directory.
    assert!(catalog(".").find_on_path("echo").is_none());
    assert!(
        catalog(dir.path().to_str().unwrap())
            .find_on_path("../echo")
            .is_none()
    );
}

#[test]
fn a_configured_plugin_wins_over_a_builtin() {
    let configured = BTreeMap::from([(
        "vault-login".to_owned(),
        PluginConfig {
            command: vec!["/nonexistent/escc-test-plugin".to_owned()],
            timeout: Some(1.0),
        },
    )]);
    // Not allowed (the default): the built-in stands, the plugin does not run.
    let catalog = Catalog::new(None, &configured).with_search_path(None);
    let builtin = catalog.provider("vault-login").unwrap().unwrap();
    let err = builtin
        .open(&Value::object([]), &Value::object([]))
        .unwrap_err();
    assert!(
        err.starts_with("vault-login: address: missing") || err.contains("not implemented yet"),
        "{err}"
    );
    let catalog = catalog.allowing_project_plugins(true);
    let err = catalog.provider("vault-login").unwrap().err().unwrap();
    assert!(
        err.message().starts_with(
            "plugin \"vault-login\" (escc.toml): describe: cannot run /nonexistent/escc-test-plugin:"
        ),
        "{err}"
    );
}
