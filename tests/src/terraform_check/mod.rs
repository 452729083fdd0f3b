//! A static checker of the Terraform under `terraform/` (see
//! docs/architecture.md, Terraform), standing in for `terraform validate` (no
//! `terraform` binary nor AWS provider can be installed here) and for the
//! rules the modules must keep (tests/tests/terraform.rs runs it).
//!
//! [`check`] takes a [`Tree`] of modules (from a folder, or from in-memory
//! files in the tests) and returns every violation, each with its file, the
//! Terraform address it concerns and a message. Layout: [`tree`] (reading the
//! files), [`model`] (a parsed module, HCL helpers), [`refs`] (references in
//! expressions), [`eval`] (symbolic evaluation), [`policy`] (policy
//! statements), and [`rules`], one module per rule. The rules and how each is
//! detected:
//!
//! * `parse`: every `.tf` file parses with hcl-rs, and so does every string
//!   template in it.
//! * `reference`: `var.X`, `local.X`, `TYPE.NAME` (resources, any index or
//!   splat after it), `data.TYPE.NAME` and `module.M[.OUT]` resolve in the
//!   module; for a module call with a relative `source`, `OUT` is an output of
//!   the called module, every argument is one of its variables and every
//!   variable without a `default` is passed. `each.`, `count.`, `self.`,
//!   `path.`, `terraform.`, the symbols of `for` expressions and template
//!   `for` directives and the iterators of `dynamic` blocks are not
//!   references. `lifecycle.ignore_changes`, `provider`/`providers` and a
//!   variable's `type` are not expressions and are skipped.
//! * `variable`: every variable has a `type`, a non-empty literal
//!   `description`, and is used somewhere in its module outside variable
//!   blocks (its own validation does not count).
//! * `lambda`: every `aws_lambda_function` has `runtime = "provided.al2023"`,
//!   `handler = "bootstrap"`, a dead-letter queue (`dead_letter_config` with
//!   `target_arn`) or an `aws_lambda_function_event_invoke_config` whose
//!   `function_name` references the function and that has
//!   `destination_config { on_failure { destination } }`, and a log group.
//!   The log group is found, in this order, through `logging_config.log_group`
//!   (`aws_cloudwatch_log_group.G[.name]`, with its index), through a
//!   `depends_on` entry that is a log group, or else as any log group whose
//!   name is the expected one. Then, for every instance of the function
//!   (`for_each` keys when the collection can be evaluated), the group's
//!   `name` and `"/aws/lambda/${function_name}"` are evaluated symbolically
//!   (locals, `each.key`/`each.value`, object lookups and string templates
//!   are resolved; anything else, such as `var.name`, is kept as its text
//!   `${var.name}`) and must be the same string; the group must also set
//!   `retention_in_days`. So a group that follows the function through
//!   `logging_config` still has to carry the function's name.
//! * `lambda-env`: a function's binary is named by the variable of its
//!   `filename` (`var.api_zip` -> `api`, `var.query_error_logs_zip` ->
//!   `query-error-logs`); the keys of `environment { variables = {...} }`
//!   must be exactly the variables that binary reads
//!   (`handlers::lambda::BINARIES`, less `AWS_REGION`, which Lambda sets).
//!   `handlers::lambda` exists only with the `aws` feature: without it
//!   (`cargo test -p e2e-tests --test terraform`) this one rule is skipped on
//!   the real tree, and every other rule and test runs.
//! * `event-target`: every `aws_cloudwatch_event_target` has `retry_policy`
//!   and `dead_letter_config` blocks (static blocks, not `dynamic` ones).
//! * `scheduler`: every `aws_scheduler_schedule` has a `target` block with
//!   `retry_policy` and `dead_letter_config` blocks.
//! * `iam`: in every Allow statement (the `statement` blocks, static and
//!   `dynamic`, of `aws_iam_policy_document` data sources, and the
//!   `Statement` entries of every `jsonencode({...})` anywhere), no action is
//!   `*` or `service:*`, and when a literal resource is `*` no action is a
//!   write action (one whose name, after `service:`, starts with none of
//!   Get, List, Describe, Query, Scan, BatchGet, Filter, Lookup, Search, Read,
//!   Head). Exceptions are the explicit [`Config::allowed`] list (`ALLOWED` in the test), each with its
//!   reason; the real-tree test fails when an entry is no longer needed.
//! * `api-gateway`: no `aws_api_gateway_method` has `authorization` "NONE"
//!   (any string literal in the expression, so both branches of a
//!   conditional count) or lacks `authorization`.
//! * `event-bus-policy`: no Allow statement of an
//!   `aws_cloudwatch_event_bus_policy` (its policy is a
//!   `data.aws_iam_policy_document.X.json` reference or a `jsonencode`; any
//!   other form is reported as unverifiable) names the principal `*` (in
//!   `principals`/`Principal`) without an `aws:PrincipalOrgID` condition, and
//!   no `aws_cloudwatch_event_permission` has `principal = "*"` without a
//!   `condition { key = "aws:PrincipalOrgID" }`. Documents merged in through
//!   `source_policy_documents` come from the caller and are not seen.
//!
//! * `sqs`: every queue is encrypted; every queue that is an event target's
//!   dead-letter queue has a queue policy letting `events.amazonaws.com`
//!   `sqs:SendMessage` under an `aws:SourceArn` condition.
//! * `secrets`: no variable named like a secret has a default but null, and
//!   no Lambda environment key (read through module calls) is named like a
//!   secret unless it names where it is (`_PARAMETER`, `_ARN`, `_NAME`).
//! * `moved`: in every `moved` block, `to` is declared (a resource, or
//!   through a module call of the tree `module.M[KEY].TYPE.NAME`), and `from`
//!   is no longer declared unless it is the same resource with another index.
//!
//! `lambda-env` looks through module calls: when a function's `filename` is a
//! variable of a module called in the tree (modules/function), its package
//! and environment are read from every instance of every call (`for_each`,
//! `each.value` and locals evaluated), and reported at the call.

pub mod eval;
pub mod model;
pub mod policy;
pub mod refs;
pub mod rules;
pub mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use model::{parse_module, Module};
use rules::{
    api_gateway, event_bus_policy, event_target, iam, lambda, lambda_env, moved, reference,
    scheduler, secrets, sqs, variable,
};
pub use tree::Tree;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    /// Path of the file, relative to the tree's root.
    pub file: String,
    /// Terraform address (`aws_lambda_function.api["get_event"]`,
    /// `var.name`, `module.master`, `local.x`, `output.y`; `-` for a
    /// whole file).
    pub address: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} [{}]: {}",
            self.file, self.address, self.rule, self.message
        )
    }
}

/// An accepted exception to the `iam` rule.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// Module folder, relative to the tree's root.
    pub module: &'static str,
    /// Address of the block holding the statement.
    pub address: &'static str,
    /// The statement's `sid` / `Sid`.
    pub sid: &'static str,
    /// The actions excused in that statement.
    pub actions: &'static [&'static str],
    pub reason: &'static str,
}

pub struct Config {
    /// Binary name -> the environment variables it reads (without the
    /// ones Lambda sets). `None`: the `lambda-env` rule is skipped.
    pub binaries: Option<BTreeMap<String, BTreeSet<String>>>,
    pub allowed: Vec<Allowed>,
}

pub struct Report {
    pub violations: Vec<Violation>,
    /// (index in `Config::allowed`, action) of each exception applied.
    pub allowed_used: BTreeSet<(usize, String)>,
    /// Binaries some `aws_lambda_function` deploys.
    pub deployed_binaries: BTreeSet<String>,
}

/// Checks every module of the tree.
pub fn check(tree: &Tree, config: &Config) -> Report {
    let mut violations = Vec::new();
    let modules: BTreeMap<String, Module> = tree
        .modules
        .iter()
        .map(|(dir, files)| (dir.clone(), parse_module(dir, files, &mut violations)))
        .collect();
    let mut allowed_used = BTreeSet::new();
    let mut deployed_binaries = BTreeSet::new();
    for m in modules.values() {
        let used = reference::check_references(m, &modules, &mut violations);
        variable::check_variables(m, &used, &mut violations);
        moved::check_moved(m, &modules, &mut violations);
        lambda::check_lambdas(m, &mut violations);
        lambda_env::check_lambda_env(m, &modules, config, &mut deployed_binaries, &mut violations);
        event_target::check_event_targets(m, &mut violations);
        scheduler::check_schedules(m, &mut violations);
        api_gateway::check_api_methods(m, &mut violations);
        sqs::check_queues(m, &mut violations);
        secrets::check_secrets(m, &modules, &mut violations);
        iam::check_iam(m, config, &mut allowed_used, &mut violations);
        event_bus_policy::check_event_bus_policies(m, &mut violations);
    }
    Report {
        violations,
        allowed_used,
        deployed_binaries,
    }
}
