//! Static checks of the Terraform under `terraform/` (see
//! docs/architecture.md, Terraform), standing in for `terraform validate` (no
//! `terraform` binary nor AWS provider can be installed here) and for the
//! rules the modules must keep.
//!
//! The checker is `e2e_tests::terraform_check` (tests/src/terraform_check,
//! one module per rule; its documentation lists the rules). Here: the real
//! tree has no violation ([`ALLOWED`] are the accepted `iam` exceptions),
//! each rule on small broken and fixed snippets (`rules/`), and the wiring the
//! real modules must keep (`wiring`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use e2e_tests::terraform_check::{check, Allowed, Config, Tree};

/// Exceptions to the `iam` rule: (module folder, address, statement id,
/// action), each with the reason it cannot be avoided.
const ALLOWED: &[Allowed] = &[
    Allowed {
        module: "modules/master",
        address: "aws_kms_key.this",
        sid: "AccountAdministersTheKeyThroughIam",
        actions: &["kms:*"],
        reason: "the default key policy: the account root gets kms:* so that IAM policies, not the key policy, govern the key (without it the key can become unmanageable); in a key policy Resource \"*\" means this key",
    },
    Allowed {
        module: "modules/master",
        address: "aws_kms_key.this",
        sid: "CloudWatchLogsEncryptsTheModuleLogGroups",
        actions: &[
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
        ],
        reason: "in a key policy Resource \"*\" means this key (a key policy cannot name its own ARN); the statement is bounded by the kms:EncryptionContext:aws:logs:arn condition",
    },
    Allowed {
        module: "modules/master",
        address: "aws_kms_key.this",
        sid: "EventBridgeRulesSendToEncryptedDeadLetterQueue",
        actions: &["kms:Decrypt", "kms:GenerateDataKey"],
        reason: "in a key policy Resource \"*\" means this key (a key policy cannot name its own ARN); the statement is bounded by aws:SourceAccount",
    },
    Allowed {
        module: "modules/agent",
        address: "aws_kms_key.this",
        sid: "AccountAdministersTheKeyThroughIam",
        actions: &["kms:*"],
        reason: "the default key policy: the account root gets kms:* so that IAM policies, not the key policy, govern the key (without it the key can become unmanageable); in a key policy Resource \"*\" means this key",
    },
    Allowed {
        module: "modules/agent",
        address: "aws_kms_key.this",
        sid: "CloudWatchLogsEncryptsTheAgentLogGroup",
        actions: &[
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
        ],
        reason: "in a key policy Resource \"*\" means this key (a key policy cannot name its own ARN); the statement is bounded by the kms:EncryptionContext:aws:logs:arn condition",
    },
    Allowed {
        module: "modules/agent",
        address: "aws_kms_key.this",
        sid: "EventBridgeRulesSendToEncryptedDeadLetterQueue",
        actions: &["kms:Decrypt", "kms:GenerateDataKey"],
        reason: "in a key policy Resource \"*\" means this key (a key policy cannot name its own ARN); the statement is bounded by aws:SourceAccount",
    },
    Allowed {
        module: "modules/agent",
        address: "data.aws_iam_policy_document.lambda",
        sid: "FollowOwnQueries",
        actions: &["logs:StopQuery"],
        reason: "logs:StopQuery has no resource type in IAM (it names only a query id), so it can only be granted on \"*\"",
    },
];

fn terraform_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../terraform")
}

/// The binaries and the variables each reads, from the handlers crate, less
/// `AWS_REGION` (set by Lambda itself). `None` without the `aws` feature
/// (`handlers::lambda` is not built then): the `lambda-env` rule is skipped.
#[cfg(feature = "aws")]
fn project_binaries() -> Option<BTreeMap<String, BTreeSet<String>>> {
    Some(
        handlers::lambda::BINARIES
            .iter()
            .map(|(bin, vars)| {
                let names = vars
                    .iter()
                    .map(|v| v.name.to_owned())
                    .filter(|n| n != "AWS_REGION")
                    .collect();
                ((*bin).to_owned(), names)
            })
            .collect(),
    )
}

#[cfg(not(feature = "aws"))]
fn project_binaries() -> Option<BTreeMap<String, BTreeSet<String>>> {
    None
}

#[test]
fn terraform_modules_and_examples_have_no_violations() {
    let tree = Tree::from_dir(&terraform_root()).expect("read terraform/");
    for dir in [
        "modules/master",
        "modules/agent",
        "examples/master",
        "examples/agent",
    ] {
        assert!(
            tree.modules.contains_key(dir),
            "terraform/{dir} holds no .tf file; found {:?}",
            tree.modules.keys().collect::<Vec<_>>()
        );
    }
    let config = Config {
        binaries: project_binaries(),
        allowed: ALLOWED.to_vec(),
    };
    let report = check(&tree, &config);
    let listed: Vec<String> = report.violations.iter().map(|v| v.to_string()).collect();
    assert!(
        listed.is_empty(),
        "{} violation(s) in terraform/:\n{}",
        listed.len(),
        listed.join("\n")
    );

    // No stale exception: each allowed action was needed.
    let mut stale = Vec::new();
    for (i, a) in ALLOWED.iter().enumerate() {
        for action in a.actions {
            if !report.allowed_used.contains(&(i, (*action).to_owned())) {
                stale.push(format!("{} {} {} {action}", a.module, a.address, a.sid));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "allow-list entries no longer needed (remove them):\n{}",
        stale.join("\n")
    );

    // Every Lambda binary is deployed by some module.
    let deployed = report.deployed_binaries;
    for bin in config.binaries.iter().flat_map(|b| b.keys()) {
        assert!(
            deployed.contains(bin),
            "no aws_lambda_function deploys the {bin} binary (filename = var.<binary>_zip)"
        );
    }
}

#[test]
fn allowed_exceptions_have_reasons() {
    for a in ALLOWED {
        assert!(!a.actions.is_empty(), "{a:?}");
        assert!(a.reason.len() > 20, "{a:?} needs a reason");
    }
}

#[path = "terraform/rules/mod.rs"]
mod rules;

#[path = "terraform/wiring/mod.rs"]
mod wiring;

#[path = "terraform/readme.rs"]
mod readme;

/// Without the `aws` feature `lambda-env` has no list of what each binary
/// reads; this still checks that every function of the real tree, through
/// the module calls of modules/function, names its binary and has a literal
/// environment (each binary here reads nothing, so only `extra` is reported).
#[test]
fn every_real_function_names_its_binary_and_a_literal_environment() {
    let tree = Tree::from_dir(&terraform_root()).expect("read terraform/");
    let binaries: BTreeMap<String, BTreeSet<String>> = [
        "api",
        "daily-report",
        "handle-monitoring-events",
        "notify",
        "query-error-logs",
        "stream-error-logs",
        "update-deployment",
    ]
    .into_iter()
    .map(|b| (b.to_owned(), BTreeSet::new()))
    .collect();
    let config = Config {
        binaries: Some(binaries.clone()),
        allowed: ALLOWED.to_vec(),
    };
    let report = check(&tree, &config);
    let unexpected: Vec<String> = report
        .violations
        .iter()
        .filter(|v| !(v.rule == "lambda-env" && v.message.starts_with("extra ")))
        .map(|v| v.to_string())
        .collect();
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    let env_reports = report.violations.iter().filter(|v| v.rule == "lambda-env");
    // Twelve master functions (four with their own package, notify among
    // them, eight API routes) and the agent's two.
    let addresses: BTreeSet<&str> = env_reports.map(|v| v.address.as_str()).collect();
    assert_eq!(addresses.len(), 14, "{addresses:?}");
    assert_eq!(
        report.deployed_binaries,
        binaries.keys().cloned().collect::<BTreeSet<_>>()
    );
}
