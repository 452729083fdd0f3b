//! Static checks of the Terraform under `terraform/` (see
//! docs/architecture.md, Terraform), standing
//! in for `terraform validate` (no `terraform` binary nor AWS provider can be
//! installed here) and for the rules the modules must keep.
//!
//! The checker is the small library in [`tfcheck`]: it takes a tree of
//! modules (from a folder, or from in-memory files in the tests) and returns
//! every violation, each with its file, the Terraform address it concerns and
//! a message. The rules and how each is detected:
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
//!   Head). Exceptions are the explicit [`ALLOWED`] list, each with its
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
//! Besides these rules, [`wiring`] reads the real modules for what a first
//! `terraform apply` on a new account and agents outside the master's region
//! need: no reserved concurrency by default, the API Gateway logging role
//! created by default, no CORS preflight a browser cannot pass, and the
//! agent's envelopes going through its own regional default bus and a
//! forwarding rule (never the master's config pushes) to the master bus.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tfcheck::{check, Allowed, Config, Tree};

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

/// The in-memory tests: each rule on a broken module, then on the fixed one.
mod rules {
    use super::tfcheck::{check, Allowed, Config, Tree, Violation};
    use std::collections::{BTreeMap, BTreeSet};

    fn config() -> Config {
        let mut binaries = BTreeMap::new();
        binaries.insert(
            "worker".to_owned(),
            BTreeSet::from(["TABLE_NAME".to_owned(), "RETENTION_DAYS".to_owned()]),
        );
        binaries.insert("api".to_owned(), BTreeSet::from(["TABLE_NAME".to_owned()]));
        Config {
            binaries: Some(binaries),
            allowed: Vec::new(),
        }
    }

    fn run(files: &[(&str, &str)]) -> Vec<Violation> {
        run_with(files, &config())
    }

    fn run_with(files: &[(&str, &str)], config: &Config) -> Vec<Violation> {
        check(&Tree::from_files(files), config).violations
    }

    fn of_rule<'a>(vs: &'a [Violation], rule: &str) -> Vec<&'a Violation> {
        vs.iter().filter(|v| v.rule == rule).collect()
    }

    fn show(vs: &[Violation]) -> String {
        vs.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[track_caller]
    fn assert_clean(files: &[(&str, &str)]) {
        let vs = run(files);
        assert!(vs.is_empty(), "expected no violation, got:\n{}", show(&vs));
    }

    /// Asserts that `rule` reports a violation at `address` whose message
    /// contains `needle`.
    #[track_caller]
    fn assert_reports(vs: &[Violation], rule: &str, address: &str, needle: &str) {
        assert!(
            vs.iter()
                .any(|v| v.rule == rule && v.address == address && v.message.contains(needle)),
            "expected a {rule} violation at {address} containing {needle:?}, got:\n{}",
            show(vs)
        );
    }

    /// A complete, valid Lambda function (every rule holds).
    const LAMBDA: &str = r#"
variable "worker_zip" {
  description = "Package of the worker."
  type        = string
}

variable "name" {
  description = "Prefix."
  type        = string
  default     = "demo"
}

locals {
  function_name = "${var.name}-worker"
}

resource "aws_sqs_queue" "dlq" {
  name = "${var.name}-dlq"
}

resource "aws_iam_role" "worker" {
  name               = local.function_name
  assume_role_policy = "{}"
}

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = 30
}

resource "aws_lambda_function" "worker" {
  function_name = local.function_name
  role          = aws_iam_role.worker.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = var.worker_zip

  environment {
    variables = {
      TABLE_NAME     = "table"
      RETENTION_DAYS = "30"
    }
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.worker.name
  }
}
"#;

    fn lambda(replace: &[(&str, &str)]) -> String {
        let mut s = LAMBDA.to_owned();
        for (from, to) in replace {
            assert!(s.contains(from), "fixture has no {from:?}");
            s = s.replacen(from, to, 1);
        }
        s
    }

    #[test]
    fn parse_errors_are_reported() {
        let vs = run(&[(
            "m/main.tf",
            "resource \"aws_sqs_queue\" \"q\" {\n  name = \n",
        )]);
        assert_eq!(of_rule(&vs, "parse").len(), 1, "{}", show(&vs));
        assert_eq!(vs[0].file, "m/main.tf");

        let vs = run(&[(
            "m/main.tf",
            "resource \"aws_sqs_queue\" \"q\" {\n  name = \"${unclosed\"\n}\n",
        )]);
        assert!(!of_rule(&vs, "parse").is_empty(), "{}", show(&vs));

        assert_clean(&[(
            "m/main.tf",
            "resource \"aws_sqs_queue\" \"q\" {\n  name = \"q\"\n}\n",
        )]);
    }

    #[test]
    fn unresolved_variables_locals_resources_and_data_sources_are_reported() {
        let broken = r#"
locals {
  a = var.missing
  b = local.nope
}

resource "aws_sqs_queue" "q" {
  name   = "${local.a}-${local.b}"
  policy = aws_iam_policy.absent.arn
  tags   = { k = data.aws_region.absent.name, j = ghost }
}

output "o" {
  description = "x"
  value       = aws_sqs_queue.other[0].arn
}
"#;
        let vs = run(&[("m/main.tf", broken)]);
        assert_reports(&vs, "reference", "local.a", "var.missing");
        assert_reports(&vs, "reference", "local.b", "local.nope");
        assert_reports(&vs, "reference", "aws_sqs_queue.q", "aws_iam_policy.absent");
        assert_reports(
            &vs,
            "reference",
            "aws_sqs_queue.q",
            "data.aws_region.absent",
        );
        assert_reports(&vs, "reference", "aws_sqs_queue.q", "ghost");
        assert_reports(&vs, "reference", "output.o", "aws_sqs_queue.other");
        assert_eq!(of_rule(&vs, "reference").len(), 6, "{}", show(&vs));

        let fixed = r#"
variable "present" {
  description = "x"
  type        = string
}

data "aws_region" "current" {}

locals {
  a = var.present
  b = "b"
}

resource "aws_iam_policy" "p" {
  policy = "{}"
}

resource "aws_sqs_queue" "q" {
  count  = 2
  name   = "${local.a}-${local.b}-${count.index}"
  policy = aws_iam_policy.p.arn
  tags   = { k = data.aws_region.current.name }
}

output "o" {
  description = "x"
  value       = aws_sqs_queue.q[0].arn
}

output "all" {
  description = "x"
  value       = aws_sqs_queue.q[*].arn
}
"#;
        assert_clean(&[("m/main.tf", fixed)]);
    }

    #[test]
    fn iterator_symbols_and_meta_arguments_are_not_references() {
        let files = r#"
variable "names" {
  description = "x"
  type        = map(string)
}

locals {
  upper  = { for k, v in var.names : k => upper(v) if v != "" }
  joined = "%{for n in var.names}${n},%{endfor}"
}

data "aws_iam_policy_document" "d" {
  dynamic "statement" {
    for_each = local.upper
    iterator = s

    content {
      sid       = s.key
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.q[s.key].arn]
    }
  }

  dynamic "statement" {
    for_each = local.upper

    content {
      sid       = "${statement.key}2"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.q[statement.key].arn]
    }
  }
}

resource "aws_sqs_queue" "q" {
  for_each = local.upper
  name     = "${each.key}-${each.value}-${local.joined}-${path.module}-${terraform.workspace}"
  policy   = data.aws_iam_policy_document.d.json

  lifecycle {
    ignore_changes = [name, tags]
  }
}
"#;
        assert_clean(&[("m/main.tf", files)]);
    }

    const CALLED: &str = r#"
variable "required_one" {
  description = "x"
  type        = string
}

variable "optional_one" {
  description = "x"
  type        = string
  default     = null
}

resource "aws_sqs_queue" "q" {
  name   = var.required_one
  policy = var.optional_one
}

output "queue_arn" {
  description = "x"
  value       = aws_sqs_queue.q.arn
}
"#;

    #[test]
    fn module_calls_are_checked_against_the_called_module() {
        let broken = r#"
module "child" {
  source = "../child"

  optional_one = "x"
  unknown_arg  = "y"
}

module "elsewhere" {
  source = "../nowhere"
}

output "arn" {
  description = "x"
  value       = module.child.no_such_output
}

output "arn2" {
  description = "x"
  value       = module.absent.queue_arn
}
"#;
        let vs = run(&[("child/main.tf", CALLED), ("root/main.tf", broken)]);
        assert_reports(&vs, "reference", "module.child", "unknown_arg");
        assert_reports(&vs, "reference", "module.child", "required_one");
        assert_reports(&vs, "reference", "module.elsewhere", "../nowhere");
        assert_reports(&vs, "reference", "output.arn", "no_such_output");
        assert_reports(&vs, "reference", "output.arn2", "module.absent");
        assert_eq!(of_rule(&vs, "reference").len(), 5, "{}", show(&vs));

        let fixed = r#"
module "child" {
  source = "../child"

  required_one = "x"
}

module "counted" {
  source = "./../child"
  count  = 1

  required_one = "y"
  optional_one = "z"
}

module "registry" {
  source  = "terraform-aws-modules/sqs/aws"
  version = "4.0.0"

  anything = "goes"
}

output "arn" {
  description = "x"
  value       = [module.child.queue_arn, module.counted[0].queue_arn, module.registry.whatever]
}
"#;
        assert_clean(&[("child/main.tf", CALLED), ("root/main.tf", fixed)]);
    }

    #[test]
    fn variables_need_a_type_a_description_and_a_use() {
        let broken = r#"
variable "untyped" {
  description = "x"
}

variable "undescribed" {
  type        = string
  description = ""
}

variable "unused" {
  description = "x"
  type        = string

  validation {
    condition     = length(var.unused) > 0
    error_message = "Its own validation is no use."
  }
}

resource "aws_sqs_queue" "q" {
  name   = var.untyped
  policy = var.undescribed
}
"#;
        let vs = run(&[("m/variables.tf", broken)]);
        assert_reports(&vs, "variable", "var.untyped", "type");
        assert_reports(&vs, "variable", "var.undescribed", "description");
        assert_reports(&vs, "variable", "var.unused", "never used");
        assert_eq!(of_rule(&vs, "variable").len(), 3, "{}", show(&vs));

        let fixed = r#"
variable "typed" {
  description = "x"
  type        = string
}

variable "described" {
  type        = list(object({ a = string }))
  description = "A list."
}

resource "aws_sqs_queue" "q" {
  name   = var.typed
  policy = jsonencode(var.described)
}
"#;
        assert_clean(&[("m/variables.tf", fixed)]);
    }

    #[test]
    fn lambda_runtime_and_handler() {
        let broken = lambda(&[
            (r#""provided.al2023""#, r#""provided.al2""#),
            (
                r#"handler       = "bootstrap""#,
                r#"handler       = "main""#,
            ),
        ]);
        let vs = run(&[("m/main.tf", &broken)]);
        assert_reports(
            &vs,
            "lambda",
            "aws_lambda_function.worker",
            "provided.al2023",
        );
        assert_reports(&vs, "lambda", "aws_lambda_function.worker", "bootstrap");
        assert_eq!(vs.len(), 2, "{}", show(&vs));
        assert_clean(&[("m/main.tf", LAMBDA)]);
    }

    #[test]
    fn lambda_log_group_name_and_retention() {
        // The group through logging_config has another name.
        let wrong_name = lambda(&[(
            r#""/aws/lambda/${local.function_name}""#,
            r#""/aws/lambda/${var.name}-other""#,
        )]);
        let vs = run(&[("m/main.tf", &wrong_name)]);
        assert_reports(
            &vs,
            "lambda",
            "aws_lambda_function.worker",
            "/aws/lambda/${var.name}-other",
        );

        // No retention.
        let no_retention = lambda(&[("  retention_in_days = 30\n", "")]);
        let vs = run(&[("m/main.tf", &no_retention)]);
        assert_reports(
            &vs,
            "lambda",
            "aws_lambda_function.worker",
            "retention_in_days",
        );

        // No logging_config and no group of that name.
        let none = lambda(&[
            (
                "  logging_config {\n    log_format = \"Text\"\n    log_group  = aws_cloudwatch_log_group.worker.name\n  }\n",
                "",
            ),
            (
                r#""/aws/lambda/${local.function_name}""#,
                r#""/aws/lambda/${var.name}-other""#,
            ),
        ]);
        let vs = run(&[("m/main.tf", &none)]);
        assert_reports(
            &vs,
            "lambda",
            "aws_lambda_function.worker",
            "no aws_cloudwatch_log_group named /aws/lambda/${var.name}-worker",
        );

        // Found by depends_on, and by its name alone.
        let by_depends_on = lambda(&[(
            "  logging_config {\n    log_format = \"Text\"\n    log_group  = aws_cloudwatch_log_group.worker.name\n  }\n",
            "  depends_on = [aws_cloudwatch_log_group.worker]\n",
        )]);
        assert_clean(&[("m/main.tf", &by_depends_on)]);
        let by_name = lambda(&[(
            "  logging_config {\n    log_format = \"Text\"\n    log_group  = aws_cloudwatch_log_group.worker.name\n  }\n",
            "",
        )]);
        assert_clean(&[("m/main.tf", &by_name)]);
    }

    #[test]
    fn lambda_log_groups_of_for_each_functions_are_matched_per_instance() {
        let module = |log_group_name: &str| {
            format!(
                r#"
variable "api_zip" {{
  description = "x"
  type        = string
}}

locals {{
  names  = {{ a = "svc-a", b = "svc-b" }}
  routes = {{ a = {{ method = "GET" }}, b = {{ method = "PUT" }} }}
}}

resource "aws_sqs_queue" "dlq" {{
  for_each = local.names
  name     = "${{each.value}}-dlq"
}}

resource "aws_cloudwatch_log_group" "fn" {{
  for_each          = local.names
  name              = {log_group_name}
  retention_in_days = 7
}}

resource "aws_lambda_function" "api" {{
  for_each      = local.routes
  function_name = local.names[each.key]
  role          = "arn:aws:iam::111122223333:role/r"
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = var.api_zip

  environment {{
    variables = {{
      TABLE_NAME = each.value.method
    }}
  }}

  dead_letter_config {{
    target_arn = aws_sqs_queue.dlq[each.key].arn
  }}

  logging_config {{
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.fn[each.key].name
  }}
}}
"#
            )
        };
        let vs = run(&[("m/main.tf", &module(r#""/aws/lambda/${each.key}""#))]);
        assert_reports(
            &vs,
            "lambda",
            "aws_lambda_function.api[\"a\"]",
            "/aws/lambda/a",
        );
        assert_reports(
            &vs,
            "lambda",
            "aws_lambda_function.api[\"b\"]",
            "/aws/lambda/b",
        );
        assert_clean(&[("m/main.tf", &module(r#""/aws/lambda/${each.value}""#))]);
    }

    #[test]
    fn lambda_needs_a_dead_letter_queue_or_an_on_failure_destination() {
        let no_dlq = lambda(&[(
            "  dead_letter_config {\n    target_arn = aws_sqs_queue.dlq.arn\n  }\n",
            "",
        )]);
        let vs = run(&[("m/main.tf", &no_dlq)]);
        assert_reports(
            &vs,
            "lambda",
            "aws_lambda_function.worker",
            "dead_letter_config",
        );

        // An event invoke config without on_failure does not count.
        let without_on_failure = format!(
            "{no_dlq}\nresource \"aws_lambda_function_event_invoke_config\" \"worker\" {{\n  function_name          = aws_lambda_function.worker.function_name\n  maximum_retry_attempts = 2\n}}\n"
        );
        let vs = run(&[("m/main.tf", &without_on_failure)]);
        assert_reports(&vs, "lambda", "aws_lambda_function.worker", "on_failure");

        let with_on_failure = format!(
            "{no_dlq}\nresource \"aws_lambda_function_event_invoke_config\" \"worker\" {{\n  function_name = aws_lambda_function.worker.function_name\n\n  destination_config {{\n    on_failure {{\n      destination = aws_sqs_queue.dlq.arn\n    }}\n  }}\n}}\n"
        );
        assert_clean(&[("m/main.tf", &with_on_failure)]);
        assert_clean(&[("m/main.tf", LAMBDA)]);
    }

    #[test]
    fn lambda_environment_is_exactly_what_its_binary_reads() {
        let missing_and_extra = lambda(&[(
            "      RETENTION_DAYS = \"30\"\n",
            "      DEBUG          = \"1\"\n",
        )]);
        let vs = run(&[("m/main.tf", &missing_and_extra)]);
        assert_reports(
            &vs,
            "lambda-env",
            "aws_lambda_function.worker",
            "missing RETENTION_DAYS",
        );
        assert_reports(
            &vs,
            "lambda-env",
            "aws_lambda_function.worker",
            "extra DEBUG",
        );

        // An optional variable left out is reported too (exact equality).
        let optional_left_out = lambda(&[("      RETENTION_DAYS = \"30\"\n", "")]);
        let vs = run(&[("m/main.tf", &optional_left_out)]);
        assert_reports(
            &vs,
            "lambda-env",
            "aws_lambda_function.worker",
            "missing RETENTION_DAYS",
        );

        // A package that names no binary.
        let unknown = lambda(&[
            ("variable \"worker_zip\"", "variable \"mystery_zip\""),
            (
                "filename      = var.worker_zip",
                "filename      = var.mystery_zip",
            ),
        ]);
        let vs = run(&[("m/main.tf", &unknown)]);
        assert_reports(&vs, "lambda-env", "aws_lambda_function.worker", "mystery");

        let mut config = config();
        config.binaries.as_mut().expect("binaries").insert(
            "worker".to_owned(),
            BTreeSet::from(["TABLE_NAME".to_owned(), "DEBUG".to_owned()]),
        );
        let vs = run_with(&[("m/main.tf", &missing_and_extra)], &config);
        assert!(vs.is_empty(), "{}", show(&vs));
        assert_clean(&[("m/main.tf", LAMBDA)]);
    }

    const TARGET: &str = r#"
resource "aws_sqs_queue" "dlq" {
  name = "dlq"
}

resource "aws_cloudwatch_event_rule" "r" {
  name          = "r"
  event_pattern = jsonencode({ source = ["x"] })
}

resource "aws_cloudwatch_event_target" "t" {
  rule = aws_cloudwatch_event_rule.r.name
  arn  = "arn:aws:sqs:eu-west-1:111122223333:q"

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 3
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}
"#;

    #[test]
    fn event_targets_need_retry_policy_and_dead_letter_config() {
        let broken = TARGET
            .replace(
                "  retry_policy {\n    maximum_event_age_in_seconds = 3600\n    maximum_retry_attempts       = 3\n  }\n",
                "",
            )
            .replace("  dead_letter_config {\n    arn = aws_sqs_queue.dlq.arn\n  }\n", "");
        let vs = run(&[("m/main.tf", &broken)]);
        assert_reports(
            &vs,
            "event-target",
            "aws_cloudwatch_event_target.t",
            "retry_policy",
        );
        assert_reports(
            &vs,
            "event-target",
            "aws_cloudwatch_event_target.t",
            "dead_letter_config",
        );
        assert_eq!(vs.len(), 2, "{}", show(&vs));
        assert_clean(&[("m/main.tf", TARGET)]);
    }

    const SCHEDULE: &str = r#"
resource "aws_sqs_queue" "dlq" {
  name = "dlq"
}

resource "aws_scheduler_schedule" "s" {
  name                = "s"
  schedule_expression = "rate(5 minutes)"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = "arn:aws:lambda:eu-west-1:111122223333:function:f"
    role_arn = "arn:aws:iam::111122223333:role/r"

    retry_policy {
      maximum_retry_attempts = 3
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }
}
"#;

    #[test]
    fn schedules_need_retry_policy_and_dead_letter_config() {
        let no_retry = SCHEDULE.replace(
            "    retry_policy {\n      maximum_retry_attempts = 3\n    }\n",
            "",
        );
        let vs = run(&[("m/main.tf", &no_retry)]);
        assert_reports(&vs, "scheduler", "aws_scheduler_schedule.s", "retry_policy");
        assert_eq!(vs.len(), 1, "{}", show(&vs));

        let no_dlq = SCHEDULE.replace(
            "    dead_letter_config {\n      arn = aws_sqs_queue.dlq.arn\n    }\n",
            "",
        );
        let vs = run(&[("m/main.tf", &no_dlq)]);
        assert_reports(
            &vs,
            "scheduler",
            "aws_scheduler_schedule.s",
            "dead_letter_config",
        );
        // The queue is now unused, which is fine; only the schedule is reported.
        assert_eq!(vs.len(), 1, "{}", show(&vs));
        assert_clean(&[("m/main.tf", SCHEDULE)]);
    }

    #[test]
    fn iam_wildcard_actions_are_reported() {
        let broken = r#"
data "aws_iam_policy_document" "d" {
  statement {
    sid       = "Everything"
    actions   = ["*"]
    resources = ["arn:aws:sqs:eu-west-1:111122223333:q"]
  }

  statement {
    sid       = "AllOfSqs"
    actions   = ["sqs:*"]
    resources = ["arn:aws:sqs:eu-west-1:111122223333:q"]
  }
}

resource "aws_iam_policy" "p" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "JsonEverything"
      Effect   = "Allow"
      Action   = "*"
      Resource = "arn:aws:sqs:eu-west-1:111122223333:q"
    }]
  })
}

resource "aws_iam_role_policy" "r" {
  role   = "r"
  policy = data.aws_iam_policy_document.d.json
}
"#;
        let vs = run(&[("m/main.tf", broken)]);
        assert_reports(&vs, "iam", "data.aws_iam_policy_document.d", "Everything");
        assert_reports(&vs, "iam", "data.aws_iam_policy_document.d", "sqs:*");
        assert_reports(&vs, "iam", "aws_iam_policy.p", "JsonEverything");
        assert_eq!(vs.len(), 3, "{}", show(&vs));

        let fixed = broken
            .replace(r#"actions   = ["*"]"#, r#"actions   = ["sqs:GetQueueUrl"]"#)
            .replace(
                r#"actions   = ["sqs:*"]"#,
                r#"actions   = ["sqs:SendMessage"]"#,
            )
            .replace(r#"Action   = "*""#, r#"Action   = ["sqs:ReceiveMessage"]"#);
        assert_clean(&[("m/main.tf", &fixed)]);

        // A Deny statement may use wildcards.
        let deny = broken.replace(
            "sid       = \"Everything\"",
            "sid       = \"Everything\"\n    effect    = \"Deny\"",
        );
        let vs = run(&[("m/main.tf", &deny)]);
        assert_eq!(vs.len(), 2, "{}", show(&vs));
    }

    const WRITE_ON_STAR: &str = r#"
data "aws_iam_policy_document" "d" {
  statement {
    sid       = "ReadAnything"
    actions   = ["logs:DescribeLogGroups", "logs:GetQueryResults", "ssm:GetParameter"]
    resources = ["*"]
  }

  statement {
    sid       = "StopAnything"
    actions   = ["logs:StopQuery"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = ["x"]

    content {
      sid       = "DynamicWrite"
      actions   = ["sqs:SendMessage"]
      resources = ["*"]
    }
  }
}

resource "aws_kms_key" "k" {
  policy = jsonencode({
    Statement = [
      {
        Sid       = "JsonWrite"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:DescribeKey"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_iam_role_policy" "r" {
  role   = "r"
  policy = data.aws_iam_policy_document.d.json
}
"#;

    #[test]
    fn iam_write_actions_on_every_resource_are_reported_unless_allowed() {
        let vs = run(&[("m/main.tf", WRITE_ON_STAR)]);
        assert_reports(
            &vs,
            "iam",
            "data.aws_iam_policy_document.d",
            "logs:StopQuery",
        );
        assert_reports(
            &vs,
            "iam",
            "data.aws_iam_policy_document.d",
            "sqs:SendMessage",
        );
        assert_reports(&vs, "iam", "aws_kms_key.k", "kms:Decrypt");
        // Read actions on "*" are fine.
        assert_eq!(vs.len(), 3, "{}", show(&vs));

        let mut config = config();
        config.allowed = vec![
            Allowed {
                module: "m",
                address: "data.aws_iam_policy_document.d",
                sid: "StopAnything",
                actions: &["logs:StopQuery"],
                reason: "no resource type",
            },
            Allowed {
                module: "m",
                address: "aws_kms_key.k",
                sid: "JsonWrite",
                actions: &["kms:Decrypt"],
                reason: "key policy",
            },
        ];
        let report = check(&Tree::from_files(&[("m/main.tf", WRITE_ON_STAR)]), &config);
        assert_reports(
            &report.violations,
            "iam",
            "data.aws_iam_policy_document.d",
            "sqs:SendMessage",
        );
        assert_eq!(report.violations.len(), 1, "{}", show(&report.violations));
        assert!(report
            .allowed_used
            .contains(&(0, "logs:StopQuery".to_owned())));
        assert!(report.allowed_used.contains(&(1, "kms:Decrypt".to_owned())));

        // An allow-list entry names its module: elsewhere it does not apply.
        let report = check(&Tree::from_files(&[("n/main.tf", WRITE_ON_STAR)]), &config);
        assert_eq!(report.violations.len(), 3, "{}", show(&report.violations));

        let fixed = WRITE_ON_STAR
            .replace(
                "actions   = [\"logs:StopQuery\"]\n    resources = [\"*\"]",
                "actions   = [\"logs:StopQuery\"]\n    resources = [\"arn:aws:logs:eu-west-1:111122223333:log-group:g\"]",
            )
            .replace(
                "actions   = [\"sqs:SendMessage\"]\n      resources = [\"*\"]",
                "actions   = [\"sqs:SendMessage\"]\n      resources = [\"arn:aws:sqs:eu-west-1:111122223333:q\"]",
            )
            .replace("Resource  = \"*\"", "Resource  = \"arn:aws:kms:eu-west-1:111122223333:key/k\"");
        assert_clean(&[("m/main.tf", &fixed)]);
    }

    #[test]
    fn api_gateway_methods_need_authorization() {
        let module = |auth: &str| {
            format!(
                r#"
variable "public" {{
  description = "x"
  type        = bool
}}

resource "aws_api_gateway_rest_api" "api" {{
  name = "api"
}}

resource "aws_api_gateway_method" "get" {{
  rest_api_id   = aws_api_gateway_rest_api.api.id
  resource_id   = aws_api_gateway_rest_api.api.root_resource_id
  http_method   = "GET"
  authorization = {auth}
}}
"#
            )
        };
        let vs = run(&[("m/main.tf", &module(r#""NONE""#))]);
        assert_reports(&vs, "api-gateway", "aws_api_gateway_method.get", "NONE");
        // `var.public` is then unused too.
        let vs = run(&[("m/main.tf", &module(r#"var.public ? "NONE" : "AWS_IAM""#))]);
        assert_reports(&vs, "api-gateway", "aws_api_gateway_method.get", "NONE");
        assert_eq!(vs.len(), 1, "{}", show(&vs));
        assert_clean(&[(
            "m/main.tf",
            &module(r#"var.public ? "COGNITO_USER_POOLS" : "AWS_IAM""#),
        )]);
    }

    const BUS_POLICY: &str = r#"
variable "organization_id" {
  description = "x"
  type        = string
}

resource "aws_cloudwatch_event_bus" "bus" {
  name = "bus"
}

data "aws_iam_policy_document" "bus" {
  statement {
    sid       = "Organization"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.bus.arn]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.organization_id]
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "bus" {
  event_bus_name = aws_cloudwatch_event_bus.bus.name
  policy         = data.aws_iam_policy_document.bus.json
}

resource "aws_cloudwatch_event_bus_policy" "json" {
  event_bus_name = aws_cloudwatch_event_bus.bus.name
  policy = jsonencode({
    Statement = [{
      Sid       = "JsonOrganization"
      Effect    = "Allow"
      Principal = "*"
      Action    = "events:PutEvents"
      Resource  = aws_cloudwatch_event_bus.bus.arn
      Condition = { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } }
    }]
  })
}

resource "aws_cloudwatch_event_permission" "org" {
  principal    = "*"
  statement_id = "Organization"

  condition {
    key   = "aws:PrincipalOrgID"
    type  = "StringEquals"
    value = var.organization_id
  }
}
"#;

    #[test]
    fn event_bus_policies_need_an_organization_condition_for_everyone() {
        let broken = BUS_POLICY
            .replace(
                "    condition {\n      test     = \"StringEquals\"\n      variable = \"aws:PrincipalOrgID\"\n      values   = [var.organization_id]\n    }\n",
                "",
            )
            .replace(
                "      Condition = { StringEquals = { \"aws:PrincipalOrgID\" = var.organization_id } }\n",
                "",
            )
            .replace(
                "  condition {\n    key   = \"aws:PrincipalOrgID\"\n    type  = \"StringEquals\"\n    value = var.organization_id\n  }\n",
                "",
            )
            .replace(
                "variable \"organization_id\" {\n  description = \"x\"\n  type        = string\n}\n",
                "",
            );
        let vs = run(&[("m/main.tf", &broken)]);
        assert_reports(
            &vs,
            "event-bus-policy",
            "aws_cloudwatch_event_bus_policy.bus",
            "Organization",
        );
        assert_reports(
            &vs,
            "event-bus-policy",
            "aws_cloudwatch_event_bus_policy.json",
            "JsonOrganization",
        );
        assert_reports(
            &vs,
            "event-bus-policy",
            "aws_cloudwatch_event_permission.org",
            "aws:PrincipalOrgID",
        );
        assert_eq!(vs.len(), 3, "{}", show(&vs));

        let opaque = format!(
            "{BUS_POLICY}\nresource \"aws_cloudwatch_event_bus_policy\" \"opaque\" {{\n  event_bus_name = aws_cloudwatch_event_bus.bus.name\n  policy         = var.organization_id\n}}\n"
        );
        let vs = run(&[("m/main.tf", &opaque)]);
        assert_reports(
            &vs,
            "event-bus-policy",
            "aws_cloudwatch_event_bus_policy.opaque",
            "cannot",
        );

        assert_clean(&[("m/main.tf", BUS_POLICY)]);
    }
}

/// A static checker of Terraform modules (see the file's documentation).
mod tfcheck {
    use hcl::expr::{Expression, ObjectKey, TemplateExpr, TraversalOperator};
    use hcl::template::{Directive, Element, Template};
    use hcl::{Block, Body, Structure};
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt;
    use std::path::Path;

    /// One broken rule.
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

    /// Module folder (relative, `/`-separated; "" for the root) -> its
    /// `.tf` files (path relative to the root, contents).
    pub struct Tree {
        pub modules: BTreeMap<String, Vec<(String, String)>>,
    }

    impl Tree {
        /// Every folder under `root` holding `.tf` files (`.terraform`
        /// folders skipped).
        pub fn from_dir(root: &Path) -> std::io::Result<Tree> {
            fn walk(
                root: &Path,
                dir: &Path,
                modules: &mut BTreeMap<String, Vec<(String, String)>>,
            ) -> std::io::Result<()> {
                let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
                entries.sort_by_key(|e| e.file_name());
                for entry in entries {
                    let path = entry.path();
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if entry.file_type()?.is_dir() {
                        if name != ".terraform" {
                            walk(root, &path, modules)?;
                        }
                    } else if name.ends_with(".tf") {
                        let rel = path
                            .strip_prefix(root)
                            .expect("under root")
                            .to_string_lossy()
                            .replace('\\', "/");
                        let module = parent_of(&rel);
                        modules
                            .entry(module)
                            .or_default()
                            .push((rel, std::fs::read_to_string(&path)?));
                    }
                }
                Ok(())
            }
            let mut modules = BTreeMap::new();
            walk(root, root, &mut modules)?;
            Ok(Tree { modules })
        }

        /// From (`folder/file.tf`, contents) pairs.
        pub fn from_files(files: &[(&str, &str)]) -> Tree {
            let mut modules: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
            for (path, contents) in files {
                modules
                    .entry(parent_of(path))
                    .or_default()
                    .push(((*path).to_owned(), (*contents).to_owned()));
            }
            Tree { modules }
        }
    }

    fn parent_of(path: &str) -> String {
        match path.rfind('/') {
            Some(i) => path[..i].to_owned(),
            None => String::new(),
        }
    }

    /// `dir` joined with a relative module source, normalised; None when
    /// it leaves the tree.
    fn join_source(dir: &str, source: &str) -> Option<String> {
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for part in source.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                p => parts.push(p),
            }
        }
        Some(parts.join("/"))
    }

    // ------------------------------------------------------------------
    // The parsed module
    // ------------------------------------------------------------------

    #[derive(Clone)]
    struct Item {
        file: String,
        block: Block,
    }

    #[derive(Default)]
    struct Module {
        dir: String,
        variables: BTreeMap<String, Item>,
        locals: BTreeMap<String, (String, Expression)>,
        resources: BTreeMap<(String, String), Item>,
        data: BTreeMap<(String, String), Item>,
        calls: BTreeMap<String, Item>,
        outputs: BTreeMap<String, Item>,
        /// provider, moved, import, check, removed blocks.
        others: Vec<Item>,
    }

    pub fn label(block: &Block, i: usize) -> &str {
        block.labels.get(i).map(|l| l.as_str()).unwrap_or("")
    }

    pub fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
        body.attributes()
            .find(|a| a.key.as_str() == key)
            .map(|a| &a.expr)
    }

    pub fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        body.blocks()
            .filter(move |b| b.identifier.as_str() == ident)
    }

    fn has_block(body: &Body, ident: &str) -> bool {
        blocks(body, ident).next().is_some()
    }

    pub fn literal(e: &Expression) -> Option<&str> {
        match e {
            Expression::String(s) => Some(s),
            Expression::Parenthesis(inner) => literal(inner),
            _ => None,
        }
    }

    /// The string literals of a string or of an array of strings.
    pub fn literals(e: &Expression) -> Vec<String> {
        match e {
            Expression::Array(items) => items
                .iter()
                .filter_map(literal)
                .map(str::to_owned)
                .collect(),
            other => literal(other).map(str::to_owned).into_iter().collect(),
        }
    }

    /// Every string literal anywhere inside `e`.
    fn all_literals(e: &Expression, out: &mut Vec<String>) {
        match e {
            Expression::String(s) => out.push(s.clone()),
            Expression::Array(items) => items.iter().for_each(|i| all_literals(i, out)),
            Expression::Object(obj) => obj.iter().for_each(|(_, v)| all_literals(v, out)),
            Expression::Parenthesis(inner) => all_literals(inner, out),
            Expression::Conditional(c) => {
                all_literals(&c.true_expr, out);
                all_literals(&c.false_expr, out);
            }
            Expression::FuncCall(f) => f.args.iter().for_each(|a| all_literals(a, out)),
            _ => {}
        }
    }

    pub fn text(e: &Expression) -> String {
        hcl::format::to_string(e).unwrap_or_else(|_| format!("{e:?}"))
    }

    pub fn object_key(k: &ObjectKey) -> Option<String> {
        match k {
            ObjectKey::Identifier(id) => Some(id.to_string()),
            ObjectKey::Expression(e) => literal(e).map(str::to_owned),
            _ => None,
        }
    }

    pub fn object_get<'a>(e: &'a Expression, key: &str) -> Option<&'a Expression> {
        match e {
            Expression::Object(obj) => obj
                .iter()
                .find(|(k, _)| object_key(k).as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn parse_module(dir: &str, files: &[(String, String)], out: &mut Vec<Violation>) -> Module {
        let mut m = Module {
            dir: dir.to_owned(),
            ..Module::default()
        };
        for (file, contents) in files {
            let body = match hcl::parse(contents) {
                Ok(body) => body,
                Err(e) => {
                    out.push(Violation {
                        rule: "parse",
                        file: file.clone(),
                        address: "-".into(),
                        message: format!("does not parse: {e}"),
                    });
                    continue;
                }
            };
            for structure in body.into_inner() {
                let block = match structure {
                    Structure::Block(b) => b,
                    Structure::Attribute(a) => {
                        out.push(Violation {
                            rule: "parse",
                            file: file.clone(),
                            address: a.key.to_string(),
                            message: "attribute at the top level of a .tf file".into(),
                        });
                        continue;
                    }
                };
                let item = Item {
                    file: file.clone(),
                    block: block.clone(),
                };
                let (l0, l1) = (label(&block, 0).to_owned(), label(&block, 1).to_owned());
                let duplicate = match block.identifier.as_str() {
                    "variable" => m.variables.insert(l0.clone(), item).is_some(),
                    "resource" => m.resources.insert((l0.clone(), l1.clone()), item).is_some(),
                    "data" => m.data.insert((l0.clone(), l1.clone()), item).is_some(),
                    "module" => m.calls.insert(l0.clone(), item).is_some(),
                    "output" => m.outputs.insert(l0.clone(), item).is_some(),
                    "locals" => {
                        let mut dup = false;
                        for a in block.body.attributes() {
                            dup |= m
                                .locals
                                .insert(a.key.to_string(), (file.clone(), a.expr.clone()))
                                .is_some();
                        }
                        dup
                    }
                    "terraform" => false,
                    _ => {
                        m.others.push(item);
                        false
                    }
                };
                if duplicate {
                    out.push(Violation {
                        rule: "parse",
                        file: file.clone(),
                        address: format!("{} {l0} {l1}", block.identifier),
                        message: "declared twice".into(),
                    });
                }
            }
        }
        m
    }

    fn resource_address(t: &str, n: &str) -> String {
        format!("{t}.{n}")
    }

    // ------------------------------------------------------------------
    // References
    // ------------------------------------------------------------------

    #[derive(Debug, Clone, PartialEq)]
    enum Op {
        Attr(String),
        Index,
        Splat,
    }

    #[derive(Debug)]
    enum Found {
        Ref { root: String, ops: Vec<Op> },
        BadTemplate(String),
    }

    fn refs_in_expr(e: &Expression, scope: &mut Vec<String>, out: &mut Vec<Found>) {
        match e {
            Expression::Null
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_) => {}
            Expression::Array(items) => items.iter().for_each(|i| refs_in_expr(i, scope, out)),
            Expression::Object(obj) => {
                for (k, v) in obj.iter() {
                    // A bare identifier key is a name, not a reference.
                    if let ObjectKey::Expression(ke) = k {
                        refs_in_expr(ke, scope, out);
                    }
                    refs_in_expr(v, scope, out);
                }
            }
            Expression::TemplateExpr(t) => refs_in_template_expr(t, scope, out),
            Expression::Variable(v) => push_ref(v.as_str(), Vec::new(), scope, out),
            Expression::Traversal(t) => {
                let ops: Vec<Op> = t
                    .operators
                    .iter()
                    .map(|op| match op {
                        TraversalOperator::GetAttr(id) => Op::Attr(id.to_string()),
                        TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => {
                            Op::Index
                        }
                        TraversalOperator::AttrSplat | TraversalOperator::FullSplat => Op::Splat,
                    })
                    .collect();
                match &t.expr {
                    Expression::Variable(v) => push_ref(v.as_str(), ops, scope, out),
                    other => refs_in_expr(other, scope, out),
                }
                for op in &t.operators {
                    if let TraversalOperator::Index(ie) = op {
                        refs_in_expr(ie, scope, out);
                    }
                }
            }
            Expression::FuncCall(f) => f.args.iter().for_each(|a| refs_in_expr(a, scope, out)),
            Expression::Parenthesis(inner) => refs_in_expr(inner, scope, out),
            Expression::Conditional(c) => {
                refs_in_expr(&c.cond_expr, scope, out);
                refs_in_expr(&c.true_expr, scope, out);
                refs_in_expr(&c.false_expr, scope, out);
            }
            Expression::Operation(op) => match op.as_ref() {
                hcl::expr::Operation::Unary(u) => refs_in_expr(&u.expr, scope, out),
                hcl::expr::Operation::Binary(b) => {
                    refs_in_expr(&b.lhs_expr, scope, out);
                    refs_in_expr(&b.rhs_expr, scope, out);
                }
            },
            Expression::ForExpr(f) => {
                refs_in_expr(&f.collection_expr, scope, out);
                let n = scope.len();
                if let Some(k) = &f.key_var {
                    scope.push(k.to_string());
                }
                scope.push(f.value_var.to_string());
                if let Some(k) = &f.key_expr {
                    refs_in_expr(k, scope, out);
                }
                refs_in_expr(&f.value_expr, scope, out);
                if let Some(c) = &f.cond_expr {
                    refs_in_expr(c, scope, out);
                }
                scope.truncate(n);
            }
            _ => {}
        }
    }

    fn refs_in_template_expr(t: &TemplateExpr, scope: &mut Vec<String>, out: &mut Vec<Found>) {
        match Template::from_expr(t) {
            Ok(template) => refs_in_template(&template, scope, out),
            Err(e) => out.push(Found::BadTemplate(format!(
                "template {t:?} does not parse: {e}"
            ))),
        }
    }

    fn refs_in_template(t: &Template, scope: &mut Vec<String>, out: &mut Vec<Found>) {
        for element in t.elements() {
            match element {
                Element::Literal(_) => {}
                Element::Interpolation(i) => refs_in_expr(&i.expr, scope, out),
                Element::Directive(Directive::If(d)) => {
                    refs_in_expr(&d.cond_expr, scope, out);
                    refs_in_template(&d.true_template, scope, out);
                    if let Some(f) = &d.false_template {
                        refs_in_template(f, scope, out);
                    }
                }
                Element::Directive(Directive::For(d)) => {
                    refs_in_expr(&d.collection_expr, scope, out);
                    let n = scope.len();
                    if let Some(k) = &d.key_var {
                        scope.push(k.to_string());
                    }
                    scope.push(d.value_var.to_string());
                    refs_in_template(&d.template, scope, out);
                    scope.truncate(n);
                }
            }
        }
    }

    fn push_ref(root: &str, ops: Vec<Op>, scope: &[String], out: &mut Vec<Found>) {
        if !scope.iter().any(|s| s == root) {
            out.push(Found::Ref {
                root: root.to_owned(),
                ops,
            });
        }
    }

    /// References in a block body. `skip` names attributes that hold no
    /// expression (meta-arguments such as `provider`).
    fn refs_in_body(body: &Body, skip: &[&str], scope: &mut Vec<String>, out: &mut Vec<Found>) {
        for a in body.attributes() {
            if !skip.contains(&a.key.as_str()) && a.key.as_str() != "ignore_changes" {
                refs_in_expr(&a.expr, scope, out);
            }
        }
        for b in body.blocks() {
            if b.identifier.as_str() == "dynamic" {
                if let Some(fe) = attr(&b.body, "for_each") {
                    refs_in_expr(fe, scope, out);
                }
                let iterator = match attr(&b.body, "iterator") {
                    Some(Expression::Variable(v)) => v.to_string(),
                    _ => label(b, 0).to_owned(),
                };
                let n = scope.len();
                scope.push(iterator);
                refs_in_body(&b.body, &["for_each", "iterator"], scope, out);
                scope.truncate(n);
            } else {
                refs_in_body(&b.body, &[], scope, out);
            }
        }
    }

    /// Every place of a module that holds expressions, with its address;
    /// `counts_as_use` is false for variable blocks.
    fn expression_sites(m: &Module) -> Vec<(String, String, Vec<Found>, bool)> {
        let mut sites = Vec::new();
        let mut collect = |file: &str, address: String, body: &Body, skip: &[&str], used: bool| {
            let mut out = Vec::new();
            refs_in_body(body, skip, &mut Vec::new(), &mut out);
            sites.push((file.to_owned(), address, out, used));
        };
        for ((t, n), item) in &m.resources {
            collect(
                &item.file,
                resource_address(t, n),
                &item.block.body,
                &["provider"],
                true,
            );
        }
        for ((t, n), item) in &m.data {
            collect(
                &item.file,
                format!("data.{t}.{n}"),
                &item.block.body,
                &["provider"],
                true,
            );
        }
        for (n, item) in &m.calls {
            collect(
                &item.file,
                format!("module.{n}"),
                &item.block.body,
                &["source", "version", "providers"],
                true,
            );
        }
        for (n, item) in &m.outputs {
            collect(
                &item.file,
                format!("output.{n}"),
                &item.block.body,
                &[],
                true,
            );
        }
        for (n, item) in &m.variables {
            collect(
                &item.file,
                format!("var.{n}"),
                &item.block.body,
                &["type"],
                false,
            );
        }
        for item in &m.others {
            let address = std::iter::once(item.block.identifier.to_string())
                .chain(item.block.labels.iter().map(|l| l.as_str().to_owned()))
                .collect::<Vec<_>>()
                .join(".");
            collect(&item.file, address, &item.block.body, &[], true);
        }
        for (n, (file, e)) in &m.locals {
            let mut out = Vec::new();
            refs_in_expr(e, &mut Vec::new(), &mut out);
            sites.push((file.clone(), format!("local.{n}"), out, true));
        }
        sites
    }

    const IGNORED_ROOTS: &[&str] = &["each", "count", "self", "path", "terraform"];

    fn module_source(item: &Item) -> Option<String> {
        attr(&item.block.body, "source")
            .and_then(literal)
            .map(str::to_owned)
    }

    fn is_local_source(source: &str) -> bool {
        source.starts_with("./") || source.starts_with("../")
    }

    fn check_references(
        m: &Module,
        modules: &BTreeMap<String, Module>,
        out: &mut Vec<Violation>,
    ) -> BTreeSet<String> {
        let mut used_vars = BTreeSet::new();
        for (file, address, found, counts_as_use) in expression_sites(m) {
            let mut report_as = |rule: &'static str, message: String| {
                out.push(Violation {
                    rule,
                    file: file.clone(),
                    address: address.clone(),
                    message,
                })
            };
            for f in found {
                let mut report = |message: String| report_as("reference", message);
                let (root, ops) = match f {
                    Found::BadTemplate(msg) => {
                        report_as("parse", msg);
                        continue;
                    }
                    Found::Ref { root, ops } => (root, ops),
                };
                let attr_at = |i: usize| match ops.get(i) {
                    Some(Op::Attr(a)) => Some(a.as_str()),
                    _ => None,
                };
                match root.as_str() {
                    r if IGNORED_ROOTS.contains(&r) => {}
                    "var" => match attr_at(0) {
                        Some(v) if m.variables.contains_key(v) => {
                            if counts_as_use {
                                used_vars.insert(v.to_owned());
                            }
                        }
                        Some(v) => report(format!("var.{v}: no such variable in the module")),
                        None => report("bare `var`".into()),
                    },
                    "local" => match attr_at(0) {
                        Some(l) if m.locals.contains_key(l) => {}
                        Some(l) => report(format!("local.{l}: no such local")),
                        None => report("bare `local`".into()),
                    },
                    "data" => match (attr_at(0), attr_at(1)) {
                        (Some(t), Some(n)) if m.data.contains_key(&(t.into(), n.into())) => {}
                        (Some(t), Some(n)) => report(format!("data.{t}.{n}: no such data source")),
                        _ => report("incomplete data source reference".into()),
                    },
                    "module" => {
                        let Some(name) = attr_at(0) else {
                            report("bare `module`".into());
                            continue;
                        };
                        let Some(call) = m.calls.get(name) else {
                            report(format!("module.{name}: no such module call"));
                            continue;
                        };
                        // The output: the first attribute after the name
                        // (past any index for count/for_each calls).
                        let output = ops[1..].iter().find_map(|op| match op {
                            Op::Attr(a) => Some(a.as_str()),
                            Op::Index | Op::Splat => None,
                        });
                        let called = module_source(call)
                            .filter(|s| is_local_source(s))
                            .and_then(|s| join_source(&m.dir, &s))
                            .and_then(|d| modules.get(&d));
                        if let (Some(output), Some(called)) = (output, called) {
                            if !called.outputs.contains_key(output) {
                                report(format!(
                                    "module.{name}.{output}: {} declares no output {output}",
                                    called.dir
                                ));
                            }
                        }
                    }
                    resource_type => match attr_at(0) {
                        Some(n) if m.resources.contains_key(&(resource_type.into(), n.into())) => {}
                        Some(n) => report(format!("{resource_type}.{n}: no such resource")),
                        None => report(format!("{resource_type}: unknown symbol")),
                    },
                }
            }
        }
        check_module_calls(m, modules, out);
        used_vars
    }

    fn check_module_calls(
        m: &Module,
        modules: &BTreeMap<String, Module>,
        out: &mut Vec<Violation>,
    ) {
        const META: &[&str] = &[
            "source",
            "version",
            "providers",
            "count",
            "for_each",
            "depends_on",
        ];
        for (name, item) in &m.calls {
            let mut report = |message: String| {
                out.push(Violation {
                    rule: "reference",
                    file: item.file.clone(),
                    address: format!("module.{name}"),
                    message,
                })
            };
            let Some(source) = module_source(item) else {
                report("no literal source".into());
                continue;
            };
            if !is_local_source(&source) {
                continue; // a registry or remote module: not in this tree
            }
            let Some(called) = join_source(&m.dir, &source).and_then(|d| modules.get(&d)) else {
                report(format!(
                    "source {source}: no module there in the checked tree"
                ));
                continue;
            };
            let passed: BTreeSet<&str> = item
                .block
                .body
                .attributes()
                .map(|a| a.key.as_str())
                .filter(|k| !META.contains(k))
                .collect();
            for arg in &passed {
                if !called.variables.contains_key(*arg) {
                    report(format!(
                        "argument {arg}: {} has no such variable",
                        called.dir
                    ));
                }
            }
            for (var, v) in &called.variables {
                if attr(&v.block.body, "default").is_none() && !passed.contains(var.as_str()) {
                    report(format!(
                        "required variable {var} of {} is not passed",
                        called.dir
                    ));
                }
            }
        }
    }

    // ------------------------------------------------------------------
    // Variables
    // ------------------------------------------------------------------

    fn check_variables(m: &Module, used: &BTreeSet<String>, out: &mut Vec<Violation>) {
        for (name, item) in &m.variables {
            let mut report = |message: &str| {
                out.push(Violation {
                    rule: "variable",
                    file: item.file.clone(),
                    address: format!("var.{name}"),
                    message: message.to_owned(),
                })
            };
            let body = &item.block.body;
            if attr(body, "type").is_none() {
                report("has no type");
            }
            match attr(body, "description").and_then(literal) {
                Some(d) if !d.trim().is_empty() => {}
                _ => report("has no description (a non-empty string literal)"),
            }
            if !used.contains(name) {
                report("is never used in its module");
            }
        }
    }

    // ------------------------------------------------------------------
    // Symbolic evaluation (log group names)
    // ------------------------------------------------------------------

    /// A value as far as it can be known without a plan: strings may hold
    /// `${...}` placeholders for what is unknown (`${var.name}`).
    #[derive(Debug, Clone, PartialEq)]
    enum Val {
        Str(String),
        Opaque(String),
        List(Vec<Val>),
        Obj(BTreeMap<String, Val>),
    }

    impl Val {
        fn render(&self) -> Option<String> {
            match self {
                Val::Str(s) => Some(s.clone()),
                Val::Opaque(t) => Some(format!("${{{t}}}")),
                _ => None,
            }
        }
    }

    type Each = Option<(Val, Val)>;

    struct Eval<'m> {
        m: &'m Module,
        each: Each,
        depth: usize,
    }

    impl Eval<'_> {
        fn eval(&self, e: &Expression) -> Val {
            if self.depth > 32 {
                return Val::Opaque(text(e));
            }
            match e {
                Expression::String(s) => Val::Str(s.clone()),
                Expression::Number(n) => Val::Str(n.to_string()),
                Expression::Bool(b) => Val::Str(b.to_string()),
                Expression::Array(items) => Val::List(items.iter().map(|i| self.eval(i)).collect()),
                Expression::Object(obj) => {
                    let mut map = BTreeMap::new();
                    for (k, v) in obj.iter() {
                        let key = match k {
                            ObjectKey::Identifier(id) => id.to_string(),
                            ObjectKey::Expression(ke) => match self.eval(ke) {
                                Val::Str(s) => s,
                                _ => return Val::Opaque(text(e)),
                            },
                            _ => return Val::Opaque(text(e)),
                        };
                        map.insert(key, self.eval(v));
                    }
                    Val::Obj(map)
                }
                Expression::Parenthesis(inner) => self.eval(inner),
                Expression::TemplateExpr(t) => {
                    self.eval_template(t).unwrap_or(Val::Opaque(text(e)))
                }
                Expression::FuncCall(f)
                    if f.args.len() == 1
                        && ["tostring", "toset", "tomap", "tolist"]
                            .contains(&f.name.name.as_str()) =>
                {
                    self.eval(&f.args[0])
                }
                Expression::Traversal(t) => {
                    let Expression::Variable(root) = &t.expr else {
                        return Val::Opaque(text(e));
                    };
                    let (start, rest) = match (root.as_str(), t.operators.first()) {
                        ("local", Some(TraversalOperator::GetAttr(name))) => {
                            match self.m.locals.get(name.as_str()) {
                                Some((_, le)) => {
                                    let inner = Eval {
                                        m: self.m,
                                        each: None,
                                        depth: self.depth + 1,
                                    };
                                    (inner.eval(le), &t.operators[1..])
                                }
                                None => return Val::Opaque(text(e)),
                            }
                        }
                        ("each", Some(TraversalOperator::GetAttr(which))) => {
                            match (&self.each, which.as_str()) {
                                (Some((k, _)), "key") => (k.clone(), &t.operators[1..]),
                                (Some((_, v)), "value") => (v.clone(), &t.operators[1..]),
                                _ => return Val::Opaque(text(e)),
                            }
                        }
                        _ => return Val::Opaque(text(e)),
                    };
                    let mut v = start;
                    for op in rest {
                        let key = match op {
                            TraversalOperator::GetAttr(a) => Some(a.to_string()),
                            TraversalOperator::Index(ie) => match self.eval(ie) {
                                Val::Str(s) => Some(s),
                                _ => None,
                            },
                            TraversalOperator::LegacyIndex(i) => Some(i.to_string()),
                            _ => None,
                        };
                        let next = match (&v, key) {
                            (Val::Obj(map), Some(k)) => map.get(&k).cloned(),
                            (Val::List(items), Some(k)) => {
                                k.parse::<usize>().ok().and_then(|i| items.get(i).cloned())
                            }
                            _ => None,
                        };
                        match next {
                            Some(n) => v = n,
                            None => return Val::Opaque(text(e)),
                        }
                    }
                    v
                }
                _ => Val::Opaque(text(e)),
            }
        }

        fn eval_template(&self, t: &TemplateExpr) -> Option<Val> {
            let template = Template::from_expr(t).ok()?;
            let mut s = String::new();
            for element in template.elements() {
                match element {
                    Element::Literal(l) => s.push_str(l),
                    Element::Interpolation(i) => s.push_str(&self.eval(&i.expr).render()?),
                    Element::Directive(_) => return None,
                }
            }
            Some(Val::Str(s))
        }
    }

    /// The instances of a resource: (key, each). A `for_each` that cannot
    /// be evaluated gives one instance with unknown `each`.
    fn instances(m: &Module, body: &Body) -> Vec<(Option<String>, Each)> {
        let Some(fe) = attr(body, "for_each") else {
            return vec![(None, None)];
        };
        let ev = Eval {
            m,
            each: None,
            depth: 0,
        };
        match ev.eval(fe) {
            Val::Obj(map) => map
                .into_iter()
                .map(|(k, v)| (Some(k.clone()), Some((Val::Str(k), v))))
                .collect(),
            Val::List(items) if items.iter().all(|i| matches!(i, Val::Str(_))) => items
                .into_iter()
                .map(|i| {
                    let Val::Str(s) = &i else { unreachable!() };
                    (Some(s.clone()), Some((i.clone(), i)))
                })
                .collect(),
            _ => vec![(
                None,
                Some((
                    Val::Opaque("each.key".into()),
                    Val::Opaque("each.value".into()),
                )),
            )],
        }
    }

    fn instance_address(base: &str, key: &Option<String>) -> String {
        match key {
            Some(k) => format!("{base}[{k:?}]"),
            None => base.to_owned(),
        }
    }

    /// `TYPE.NAME[idx]...` -> (NAME, idx).
    fn resource_ref<'a>(
        e: &'a Expression,
        rtype: &str,
    ) -> Option<(String, Option<&'a Expression>)> {
        let Expression::Traversal(t) = e else {
            return None;
        };
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        if root.as_str() != rtype {
            return None;
        }
        let Some(TraversalOperator::GetAttr(name)) = t.operators.first() else {
            return None;
        };
        let idx = match t.operators.get(1) {
            Some(TraversalOperator::Index(ie)) => Some(ie),
            _ => None,
        };
        Some((name.to_string(), idx))
    }

    // ------------------------------------------------------------------
    // Lambda functions
    // ------------------------------------------------------------------

    fn check_lambdas(
        m: &Module,
        config: &Config,
        deployed: &mut BTreeSet<String>,
        out: &mut Vec<Violation>,
    ) {
        for ((t, name), item) in &m.resources {
            if t != "aws_lambda_function" {
                continue;
            }
            let base = resource_address(t, name);
            let body = &item.block.body;
            let mut report = |rule: &'static str, address: &str, message: String| {
                out.push(Violation {
                    rule,
                    file: item.file.clone(),
                    address: address.to_owned(),
                    message,
                })
            };

            if attr(body, "runtime").and_then(literal) != Some("provided.al2023") {
                report(
                    "lambda",
                    &base,
                    "runtime must be \"provided.al2023\"".into(),
                );
            }
            if attr(body, "handler").and_then(literal) != Some("bootstrap") {
                report("lambda", &base, "handler must be \"bootstrap\"".into());
            }

            // Dead-letter queue or on-failure destination.
            let has_dlq =
                blocks(body, "dead_letter_config").any(|b| attr(&b.body, "target_arn").is_some());
            let has_on_failure = m.resources.iter().any(|((it, _), inv)| {
                it == "aws_lambda_function_event_invoke_config"
                    && attr(&inv.block.body, "function_name")
                        .and_then(|e| resource_ref(e, "aws_lambda_function"))
                        .is_some_and(|(n, _)| &n == name)
                    && blocks(&inv.block.body, "destination_config").any(|d| {
                        blocks(&d.body, "on_failure")
                            .any(|f| attr(&f.body, "destination").is_some())
                    })
            });
            if !has_dlq && !has_on_failure {
                report(
                    "lambda",
                    &base,
                    "no dead_letter_config { target_arn } and no aws_lambda_function_event_invoke_config with destination_config.on_failure for it".into(),
                );
            }

            // Log group, per instance.
            for (key, each) in instances(m, body) {
                let address = instance_address(&base, &key);
                if let Err(message) = check_log_group(m, body, each) {
                    report("lambda", &address, message);
                }
            }

            // Environment.
            let Some(binaries) = &config.binaries else {
                continue;
            };
            let binary = match attr(body, "filename") {
                Some(Expression::Traversal(tr)) if matches!(&tr.expr, Expression::Variable(v) if v.as_str() == "var") => {
                    match tr.operators.as_slice() {
                        [TraversalOperator::GetAttr(v)] if v.as_str().ends_with("_zip") => {
                            Some(v.as_str().trim_end_matches("_zip").replace('_', "-"))
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some(binary) = binary else {
                report(
                    "lambda-env",
                    &base,
                    "filename is not var.<binary>_zip: cannot tell which binary it runs".into(),
                );
                continue;
            };
            let Some(expected) = binaries.get(&binary) else {
                report(
                    "lambda-env",
                    &base,
                    format!(
                        "its package names the binary {binary}, which is not one of {:?}",
                        binaries.keys().collect::<Vec<_>>()
                    ),
                );
                continue;
            };
            deployed.insert(binary.clone());
            let env = blocks(body, "environment")
                .next()
                .map(|b| attr(&b.body, "variables"));
            let actual: BTreeSet<String> = match env {
                None | Some(None) => BTreeSet::new(),
                Some(Some(Expression::Object(obj))) => {
                    let mut keys = BTreeSet::new();
                    for (k, _) in obj.iter() {
                        match object_key(k) {
                            Some(k) => {
                                keys.insert(k);
                            }
                            None => report(
                                "lambda-env",
                                &base,
                                "an environment key is not a literal".into(),
                            ),
                        }
                    }
                    keys
                }
                Some(Some(_)) => {
                    report(
                        "lambda-env",
                        &base,
                        "environment.variables is not a literal map".into(),
                    );
                    continue;
                }
            };
            let missing: Vec<_> = expected.difference(&actual).collect();
            let extra: Vec<_> = actual.difference(expected).collect();
            for v in missing {
                report(
                    "lambda-env",
                    &base,
                    format!("missing {v}, which the {binary} binary reads"),
                );
            }
            for v in extra {
                report(
                    "lambda-env",
                    &base,
                    format!("extra {v}, which the {binary} binary does not read"),
                );
            }
        }
    }

    fn check_log_group(m: &Module, body: &Body, each: Each) -> Result<(), String> {
        let fn_eval = Eval {
            m,
            each: each.clone(),
            depth: 0,
        };
        let function_name = attr(body, "function_name")
            .map(|e| fn_eval.eval(e))
            .and_then(|v| v.render())
            .ok_or("function_name is missing or not a string")?;
        let expected = format!("/aws/lambda/{function_name}");

        // The group named by logging_config, else by depends_on.
        let logging = blocks(body, "logging_config")
            .filter_map(|b| attr(&b.body, "log_group"))
            .find_map(|e| resource_ref(e, "aws_cloudwatch_log_group"));
        let depends = || match attr(body, "depends_on") {
            Some(Expression::Array(items)) => items
                .iter()
                .find_map(|e| resource_ref(e, "aws_cloudwatch_log_group")),
            _ => None,
        };
        let chosen = logging.or_else(depends);

        let groups: Vec<(String, Option<String>, &Item, Each)> = m
            .resources
            .iter()
            .filter(|((t, _), _)| t == "aws_cloudwatch_log_group")
            .flat_map(|((_, n), item)| {
                instances(m, &item.block.body)
                    .into_iter()
                    .map(move |(k, e)| (n.clone(), k, item, e))
            })
            .collect();
        let name_of = |item: &Item, e: &Each| {
            let ev = Eval {
                m,
                each: e.clone(),
                depth: 0,
            };
            attr(&item.block.body, "name")
                .map(|n| ev.eval(n))
                .and_then(|v| v.render())
        };

        let (group_address, item, group_name) = match chosen {
            Some((gname, idx)) => {
                let key = idx.map(|i| fn_eval.eval(i).render());
                let found = groups.iter().find(|(n, k, _, _)| {
                    n == &gname
                        && match (&key, k) {
                            (None, None) => true,
                            (Some(Some(want)), Some(have)) => want == have,
                            _ => false,
                        }
                });
                let Some((n, k, item, e)) = found else {
                    return Err(format!(
                        "its log group aws_cloudwatch_log_group.{gname}{} is not declared (or its instance cannot be resolved)",
                        key.flatten().map(|k| format!("[{k:?}]")).unwrap_or_default()
                    ));
                };
                (
                    instance_address(&resource_address("aws_cloudwatch_log_group", n), k),
                    *item,
                    name_of(item, e),
                )
            }
            None => {
                let found = groups
                    .iter()
                    .find(|(_, _, item, e)| name_of(item, e).as_deref() == Some(expected.as_str()));
                let Some((n, k, item, e)) = found else {
                    return Err(format!(
                        "no aws_cloudwatch_log_group named {expected} (none in logging_config.log_group or depends_on either)"
                    ));
                };
                (
                    instance_address(&resource_address("aws_cloudwatch_log_group", n), k),
                    *item,
                    name_of(item, e),
                )
            }
        };
        match group_name {
            Some(g) if g == expected => {}
            Some(g) => {
                return Err(format!(
                    "its log group {group_address} is named {g}, not {expected}"
                ))
            }
            None => {
                return Err(format!(
                    "its log group {group_address} has no name that evaluates to {expected}"
                ))
            }
        }
        match attr(&item.block.body, "retention_in_days") {
            Some(Expression::Null) | None => Err(format!(
                "its log group {group_address} sets no retention_in_days"
            )),
            Some(_) => Ok(()),
        }
    }

    // ------------------------------------------------------------------
    // EventBridge targets, schedules, API Gateway
    // ------------------------------------------------------------------

    fn check_targets_schedules_methods(m: &Module, out: &mut Vec<Violation>) {
        for ((t, n), item) in &m.resources {
            let body = &item.block.body;
            let mut report = |rule: &'static str, message: &str| {
                out.push(Violation {
                    rule,
                    file: item.file.clone(),
                    address: resource_address(t, n),
                    message: message.to_owned(),
                })
            };
            match t.as_str() {
                "aws_cloudwatch_event_target" => {
                    if !has_block(body, "retry_policy") {
                        report("event-target", "has no retry_policy block");
                    }
                    if !has_block(body, "dead_letter_config") {
                        report("event-target", "has no dead_letter_config block");
                    }
                }
                "aws_scheduler_schedule" => {
                    let targets: Vec<_> = blocks(body, "target").collect();
                    if targets.is_empty() {
                        report("scheduler", "has no target block");
                    }
                    for target in targets {
                        if !has_block(&target.body, "retry_policy") {
                            report("scheduler", "its target has no retry_policy block");
                        }
                        if !has_block(&target.body, "dead_letter_config") {
                            report("scheduler", "its target has no dead_letter_config block");
                        }
                    }
                }
                "aws_api_gateway_method" => match attr(body, "authorization") {
                    None => report("api-gateway", "has no authorization"),
                    Some(e) => {
                        let mut lits = Vec::new();
                        all_literals(e, &mut lits);
                        if lits.iter().any(|l| l.eq_ignore_ascii_case("NONE")) {
                            report(
                                "api-gateway",
                                "authorization can be \"NONE\" (every method must authenticate)",
                            );
                        }
                    }
                },
                _ => {}
            }
        }
    }

    // ------------------------------------------------------------------
    // Policy statements (IAM, event bus)
    // ------------------------------------------------------------------

    #[derive(Debug, Default)]
    struct Statement {
        sid: Option<String>,
        allow: bool,
        actions: Vec<String>,
        resources: Vec<String>,
        principal_star: bool,
        condition_keys: Vec<String>,
    }

    impl Statement {
        fn label(&self, i: usize) -> String {
            match &self.sid {
                Some(s) => format!("statement {s}"),
                None => format!("statement #{}", i + 1),
            }
        }
    }

    /// The statements of an `aws_iam_policy_document` (static and dynamic).
    fn document_statements(body: &Body) -> Vec<Statement> {
        let mut out = Vec::new();
        for b in body.blocks() {
            let sb = match b.identifier.as_str() {
                "statement" => &b.body,
                "dynamic" if label(b, 0) == "statement" => {
                    match blocks(&b.body, "content").next() {
                        Some(c) => &c.body,
                        None => continue,
                    }
                }
                _ => continue,
            };
            let principals = |ident: &str| {
                blocks(sb, ident)
                    .flat_map(|p| {
                        attr(&p.body, "identifiers")
                            .map(literals)
                            .unwrap_or_default()
                    })
                    .any(|i| i == "*")
            };
            out.push(Statement {
                sid: attr(sb, "sid").and_then(literal).map(str::to_owned),
                allow: attr(sb, "effect").and_then(literal).unwrap_or("Allow") == "Allow",
                actions: attr(sb, "actions").map(literals).unwrap_or_default(),
                resources: attr(sb, "resources").map(literals).unwrap_or_default(),
                principal_star: principals("principals"),
                condition_keys: blocks(sb, "condition")
                    .filter_map(|c| attr(&c.body, "variable").and_then(literal))
                    .map(str::to_owned)
                    .collect(),
            });
        }
        out
    }

    /// The statements of a `jsonencode({ Statement = ... })` argument.
    fn json_statements(doc: &Expression) -> Vec<Statement> {
        let list = match object_get(doc, "Statement") {
            Some(Expression::Array(items)) => items.iter().collect::<Vec<_>>(),
            Some(single @ Expression::Object(_)) => vec![single],
            _ => return Vec::new(),
        };
        list.into_iter()
            .map(|s| {
                let principal_star = match object_get(s, "Principal") {
                    Some(Expression::Object(obj)) => obj
                        .iter()
                        .any(|(_, v)| literals(v).iter().any(|i| i == "*")),
                    Some(other) => literals(other).iter().any(|i| i == "*"),
                    None => false,
                };
                let condition_keys = match object_get(s, "Condition") {
                    Some(Expression::Object(ops)) => ops
                        .iter()
                        .flat_map(|(_, keys)| match keys {
                            Expression::Object(k) => {
                                k.iter().filter_map(|(k, _)| object_key(k)).collect()
                            }
                            _ => Vec::new(),
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                Statement {
                    sid: object_get(s, "Sid").and_then(literal).map(str::to_owned),
                    allow: object_get(s, "Effect").and_then(literal).unwrap_or("Allow") == "Allow",
                    actions: object_get(s, "Action").map(literals).unwrap_or_default(),
                    resources: object_get(s, "Resource").map(literals).unwrap_or_default(),
                    principal_star,
                    condition_keys,
                }
            })
            .collect()
    }

    /// Every `jsonencode(...)` argument inside an expression.
    fn jsonencode_args<'a>(e: &'a Expression, out: &mut Vec<&'a Expression>) {
        match e {
            Expression::FuncCall(f) => {
                if f.name.name.as_str() == "jsonencode" && f.args.len() == 1 {
                    out.push(&f.args[0]);
                }
                f.args.iter().for_each(|a| jsonencode_args(a, out));
            }
            Expression::Array(items) => items.iter().for_each(|i| jsonencode_args(i, out)),
            Expression::Object(obj) => obj.iter().for_each(|(_, v)| jsonencode_args(v, out)),
            Expression::Parenthesis(inner) => jsonencode_args(inner, out),
            Expression::Conditional(c) => {
                jsonencode_args(&c.true_expr, out);
                jsonencode_args(&c.false_expr, out);
            }
            _ => {}
        }
    }

    fn jsonencode_in_body<'a>(body: &'a Body, out: &mut Vec<&'a Expression>) {
        for a in body.attributes() {
            jsonencode_args(&a.expr, out);
        }
        for b in body.blocks() {
            jsonencode_in_body(&b.body, out);
        }
    }

    const READ_PREFIXES: &[&str] = &[
        "Get", "List", "Describe", "Query", "Scan", "BatchGet", "Filter", "Lookup", "Search",
        "Read", "Head",
    ];

    fn is_write(action: &str) -> bool {
        let verb = action.split_once(':').map(|(_, v)| v).unwrap_or(action);
        !READ_PREFIXES.iter().any(|p| verb.starts_with(p))
    }

    fn is_wildcard(action: &str) -> bool {
        action == "*" || action.ends_with(":*")
    }

    fn check_iam(
        m: &Module,
        config: &Config,
        used: &mut BTreeSet<(usize, String)>,
        out: &mut Vec<Violation>,
    ) {
        // (file, address, statements)
        let mut sources: Vec<(String, String, Vec<Statement>)> = Vec::new();
        for ((t, n), item) in &m.data {
            if t == "aws_iam_policy_document" {
                sources.push((
                    item.file.clone(),
                    format!("data.{t}.{n}"),
                    document_statements(&item.block.body),
                ));
            }
        }
        let mut with_json: Vec<(String, String, &Body)> = Vec::new();
        for ((t, n), item) in &m.resources {
            with_json.push((item.file.clone(), resource_address(t, n), &item.block.body));
        }
        for ((t, n), item) in &m.data {
            with_json.push((item.file.clone(), format!("data.{t}.{n}"), &item.block.body));
        }
        for (n, item) in &m.outputs {
            with_json.push((item.file.clone(), format!("output.{n}"), &item.block.body));
        }
        for (file, address, body) in with_json {
            let mut docs = Vec::new();
            jsonencode_in_body(body, &mut docs);
            let statements: Vec<Statement> = docs.into_iter().flat_map(json_statements).collect();
            if !statements.is_empty() {
                sources.push((file, address, statements));
            }
        }
        for (n, (file, e)) in &m.locals {
            let mut docs = Vec::new();
            jsonencode_args(e, &mut docs);
            let statements: Vec<Statement> = docs.into_iter().flat_map(json_statements).collect();
            if !statements.is_empty() {
                sources.push((file.clone(), format!("local.{n}"), statements));
            }
        }

        for (file, address, statements) in sources {
            for (i, s) in statements.iter().enumerate() {
                if !s.allow {
                    continue;
                }
                let star = s.resources.iter().any(|r| r == "*");
                for action in &s.actions {
                    let problem = if is_wildcard(action) {
                        Some(format!(
                            "{} allows the wildcard action {action}",
                            s.label(i)
                        ))
                    } else if star && is_write(action) {
                        Some(format!(
                            "{} allows the write action {action} on resource \"*\"",
                            s.label(i)
                        ))
                    } else {
                        None
                    };
                    let Some(message) = problem else { continue };
                    let exception = config.allowed.iter().position(|a| {
                        a.module == m.dir
                            && a.address == address
                            && s.sid.as_deref() == Some(a.sid)
                            && a.actions.contains(&action.as_str())
                    });
                    match exception {
                        Some(idx) => {
                            used.insert((idx, action.clone()));
                        }
                        None => out.push(Violation {
                            rule: "iam",
                            file: file.clone(),
                            address: address.clone(),
                            message,
                        }),
                    }
                }
            }
        }
    }

    fn check_event_bus_policies(m: &Module, out: &mut Vec<Violation>) {
        for ((t, n), item) in &m.resources {
            let body = &item.block.body;
            let mut report = |message: String| {
                out.push(Violation {
                    rule: "event-bus-policy",
                    file: item.file.clone(),
                    address: resource_address(t, n),
                    message,
                })
            };
            match t.as_str() {
                "aws_cloudwatch_event_bus_policy" => {
                    let statements = match attr(body, "policy") {
                        Some(e @ Expression::Traversal(tr)) if matches!(&tr.expr, Expression::Variable(v) if v.as_str() == "data") =>
                        {
                            let doc = match tr.operators.as_slice() {
                                [TraversalOperator::GetAttr(ty), TraversalOperator::GetAttr(name), TraversalOperator::GetAttr(json)]
                                    if ty.as_str() == "aws_iam_policy_document"
                                        && json.as_str() == "json" =>
                                {
                                    m.data.get(&(ty.to_string(), name.to_string()))
                                }
                                _ => None,
                            };
                            match doc {
                                Some(d) => document_statements(&d.block.body),
                                None => {
                                    report(format!("cannot verify the policy {}: not a declared aws_iam_policy_document's json", text(e)));
                                    continue;
                                }
                            }
                        }
                        Some(Expression::FuncCall(f))
                            if f.name.name.as_str() == "jsonencode" && f.args.len() == 1 =>
                        {
                            json_statements(&f.args[0])
                        }
                        Some(e) => {
                            report(format!("cannot verify the policy {}: neither data.aws_iam_policy_document.X.json nor jsonencode(...)", text(e)));
                            continue;
                        }
                        None => {
                            report("has no policy".into());
                            continue;
                        }
                    };
                    for (i, s) in statements.iter().enumerate() {
                        if s.allow
                            && s.principal_star
                            && !s
                                .condition_keys
                                .iter()
                                .any(|k| k.eq_ignore_ascii_case("aws:PrincipalOrgID"))
                        {
                            report(format!(
                                "{} admits the principal \"*\" without an aws:PrincipalOrgID condition",
                                s.label(i)
                            ));
                        }
                    }
                }
                "aws_cloudwatch_event_permission"
                    if attr(body, "principal").and_then(literal) == Some("*") =>
                {
                    let org = blocks(body, "condition").any(|c| {
                        attr(&c.body, "key")
                            .and_then(literal)
                            .is_some_and(|k| k.eq_ignore_ascii_case("aws:PrincipalOrgID"))
                    });
                    if !org {
                        report(
                            "principal \"*\" without a condition { key = \"aws:PrincipalOrgID\" }"
                                .into(),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    // ------------------------------------------------------------------
    // Entry point
    // ------------------------------------------------------------------

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
            let used = check_references(m, &modules, &mut violations);
            check_variables(m, &used, &mut violations);
            check_lambdas(m, config, &mut deployed_binaries, &mut violations);
            check_targets_schedules_methods(m, &mut violations);
            check_iam(m, config, &mut allowed_used, &mut violations);
            check_event_bus_policies(m, &mut violations);
        }
        Report {
            violations,
            allowed_used,
            deployed_binaries,
        }
    }
}

/// The wiring the modules must keep, read from the real files: a first
/// `terraform apply` on a new account (no reserved concurrency by default,
/// the API Gateway logging role, no CORS preflight that a browser cannot
/// pass), and agents in any region (their envelopes go through their own
/// regional default bus, then a rule to the master bus).
mod wiring {
    use super::terraform_root;
    use super::tfcheck::{attr, blocks, label, literal, literals, object_get, object_key, text};
    use hcl::expr::{Expression, TraversalOperator};
    use hcl::{Block, Body, Structure};
    use std::collections::{BTreeMap, BTreeSet};

    /// The top-level blocks of one module folder (all its `.tf` files).
    struct Module {
        dir: String,
        blocks: Vec<Block>,
        /// The files' text, concatenated.
        text: String,
    }

    impl Module {
        fn load(dir: &str) -> Module {
            let path = terraform_root().join(dir);
            let mut files: Vec<_> = std::fs::read_dir(&path)
                .unwrap_or_else(|e| panic!("terraform/{dir}: {e}"))
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "tf"))
                .collect();
            files.sort();
            let mut module = Module {
                dir: dir.to_owned(),
                blocks: Vec::new(),
                text: String::new(),
            };
            for f in files {
                let src = std::fs::read_to_string(&f).expect("read");
                let body: Body =
                    hcl::parse(&src).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                module
                    .blocks
                    .extend(body.into_iter().filter_map(|s| match s {
                        Structure::Block(b) => Some(b),
                        Structure::Attribute(_) => None,
                    }));
                module.text.push_str(&src);
            }
            assert!(!module.blocks.is_empty(), "terraform/{dir} holds no block");
            module
        }

        /// Blocks `kind "t" ...` (`resource`/`data` of type `t`, or
        /// `variable`/`module` named `t`).
        fn all(&self, kind: &str, t: &str) -> std::vec::IntoIter<&Block> {
            self.blocks
                .iter()
                .filter(|b| b.identifier.as_str() == kind && label(b, 0) == t)
                .collect::<Vec<_>>()
                .into_iter()
        }

        fn one(&self, kind: &str, t: &str, name: &str) -> &Block {
            self.all(kind, t)
                .find(|b| label(b, 1) == name)
                .unwrap_or_else(|| panic!("terraform/{}: no {kind} {t}.{name}", self.dir))
        }

        fn variable(&self, name: &str) -> &Block {
            self.all("variable", name)
                .next()
                .unwrap_or_else(|| panic!("terraform/{}: no variable {name}", self.dir))
        }

        fn locals(&self) -> BTreeMap<String, Expression> {
            self.blocks
                .iter()
                .filter(|b| b.identifier.as_str() == "locals")
                .flat_map(|b| b.body.attributes())
                .map(|a| (a.key.to_string(), a.expr.clone()))
                .collect()
        }
    }

    /// `X` of `root.X` (exactly one attribute after the root).
    fn root_attr<'a>(e: &'a Expression, root: &str) -> Option<&'a str> {
        match e {
            Expression::Traversal(tr) => match (&tr.expr, tr.operators.as_slice()) {
                (Expression::Variable(v), [TraversalOperator::GetAttr(a)])
                    if v.as_str() == root =>
                {
                    Some(a.as_str())
                }
                _ => None,
            },
            Expression::Parenthesis(inner) => root_attr(inner, root),
            _ => None,
        }
    }

    /// `N` of a reference `prefix.N...` (`aws_iam_role.forward.arn`,
    /// `aws_cloudwatch_event_rule.forward[0].name`,
    /// `data.aws_iam_policy_document.forward.json`).
    fn ref_to(e: &Expression, prefix: &str) -> Option<String> {
        let t = text(e);
        let rest = t.strip_prefix(prefix)?.strip_prefix('.')?;
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }

    /// `local.X` replaced by its value, recursively.
    fn resolve(e: &Expression, locals: &BTreeMap<String, Expression>) -> Expression {
        match root_attr(e, "local").and_then(|l| locals.get(l)) {
            Some(v) => resolve(v, locals),
            None => e.clone(),
        }
    }

    /// Every object literal inside `e`, looking through locals, function
    /// calls (`jsonencode`, `concat`), conditionals and `for` expressions.
    fn objects(e: &Expression, locals: &BTreeMap<String, Expression>, out: &mut Vec<Expression>) {
        match e {
            Expression::Traversal(_) => {
                if let Some(v) = root_attr(e, "local").and_then(|l| locals.get(l)) {
                    objects(v, locals, out);
                }
            }
            Expression::Object(obj) => {
                out.push(e.clone());
                obj.iter().for_each(|(_, v)| objects(v, locals, out));
            }
            Expression::Array(items) => items.iter().for_each(|i| objects(i, locals, out)),
            Expression::FuncCall(f) => f.args.iter().for_each(|a| objects(a, locals, out)),
            Expression::Parenthesis(inner) => objects(inner, locals, out),
            Expression::Conditional(c) => {
                objects(&c.true_expr, locals, out);
                objects(&c.false_expr, locals, out);
            }
            Expression::ForExpr(f) => {
                objects(&f.collection_expr, locals, out);
                objects(&f.value_expr, locals, out);
            }
            _ => {}
        }
    }

    fn keys_of(e: &Expression) -> Vec<String> {
        match e {
            Expression::Object(obj) => obj.iter().filter_map(|(k, _)| object_key(k)).collect(),
            _ => Vec::new(),
        }
    }

    /// The statements of an `aws_iam_policy_document` (static ones and the
    /// `content` of `dynamic "statement"` blocks).
    fn statements(doc: &Block) -> Vec<&Body> {
        blocks(&doc.body, "statement")
            .map(|b| &b.body)
            .chain(
                blocks(&doc.body, "dynamic")
                    .filter(|d| label(d, 0) == "statement")
                    .flat_map(|d| blocks(&d.body, "content"))
                    .map(|b| &b.body),
            )
            .collect()
    }

    /// (actions, resources as text) of every statement of every inline
    /// policy of the role `aws_iam_role.<role>`.
    fn role_grants(m: &Module, role: &str) -> Vec<(Vec<String>, String)> {
        assert!(
            !m.all("resource", "aws_iam_role_policy_attachment")
                .any(|a| attr(&a.body, "role")
                    .and_then(|e| ref_to(e, "aws_iam_role"))
                    .as_deref()
                    == Some(role)),
            "aws_iam_role.{role} has a managed policy attached: its grants cannot be read here"
        );
        let mut grants = Vec::new();
        for policy in m.all("resource", "aws_iam_role_policy") {
            if attr(&policy.body, "role")
                .and_then(|e| ref_to(e, "aws_iam_role"))
                .as_deref()
                != Some(role)
            {
                continue;
            }
            let doc = attr(&policy.body, "policy")
                .and_then(|e| ref_to(e, "data.aws_iam_policy_document"))
                .unwrap_or_else(|| panic!("the policies of aws_iam_role.{role} are aws_iam_policy_document data sources"));
            for st in statements(m.one("data", "aws_iam_policy_document", &doc)) {
                let actions = attr(st, "actions").map(literals).unwrap_or_default();
                let resources = attr(st, "resources")
                    .map(|e| squash(&text(e)))
                    .unwrap_or_default();
                grants.push((actions, resources));
            }
        }
        grants
    }

    /// `s` without whitespace (the formatter breaks lists over lines).
    fn squash(s: &str) -> String {
        s.split_whitespace().collect()
    }

    fn contains_number(e: &Expression) -> bool {
        match e {
            Expression::Number(_) => true,
            Expression::Array(items) => items.iter().any(contains_number),
            Expression::Object(obj) => obj.iter().any(|(_, v)| contains_number(v)),
            Expression::FuncCall(f) => f.args.iter().any(contains_number),
            Expression::Parenthesis(inner) => contains_number(inner),
            Expression::Conditional(c) => {
                contains_number(&c.true_expr) || contains_number(&c.false_expr)
            }
            _ => false,
        }
    }

    // ------------------------------------------------------------------
    // A first apply on a new account
    // ------------------------------------------------------------------

    /// New accounts often have a concurrency quota of 10, and Lambda keeps
    /// 100 unreserved: any reservation then fails the apply. Reservations
    /// are opt-in: `reserved_concurrent_executions` is unset, or
    /// `lookup(var.V, <key>, null)` of a map variable that defaults to `{}`
    /// and validates its keys, or `var.V` defaulting to null.
    #[test]
    fn no_function_reserves_concurrency_by_default() {
        for dir in ["modules/master", "modules/agent"] {
            let m = Module::load(dir);
            let functions: Vec<_> = m.all("resource", "aws_lambda_function").collect();
            assert!(!functions.is_empty(), "{dir}: no function");
            for f in functions {
                let name = format!("{dir}: aws_lambda_function.{}", label(f, 1));
                let Some(e) = attr(&f.body, "reserved_concurrent_executions") else {
                    continue;
                };
                assert!(
                    !contains_number(e),
                    "{name} reserves a literal number: {}",
                    text(e)
                );
                let (var, via_map) = match e {
                    Expression::FuncCall(call)
                        if call.name.name.as_str() == "lookup" && call.args.len() == 3 =>
                    {
                        assert!(
                            matches!(call.args[2], Expression::Null),
                            "{name}: a function missing from the map must be unreserved (null): {}",
                            text(e)
                        );
                        (root_attr(&call.args[0], "var"), true)
                    }
                    other => (root_attr(other, "var"), false),
                };
                let var = var.unwrap_or_else(|| {
                    panic!(
                        "{name}: reserved_concurrent_executions must come from a variable: {}",
                        text(e)
                    )
                });
                let variable = m.variable(var);
                let default = attr(&variable.body, "default");
                if via_map {
                    assert!(
                        matches!(default, Some(Expression::Object(o)) if o.is_empty()),
                        "{dir}: var.{var} must default to {{}} (nothing reserved), not {:?}",
                        default.map(text)
                    );
                    let validated = blocks(&variable.body, "validation").any(|v| {
                        attr(&v.body, "condition")
                            .is_some_and(|c| text(c).contains(&format!("keys(var.{var})")))
                    });
                    assert!(
                        validated,
                        "{dir}: var.{var} must validate its keys against the function keys"
                    );
                } else {
                    assert!(
                        matches!(default, Some(Expression::Null)),
                        "{dir}: var.{var} must default to null (unreserved), not {:?}",
                        default.map(text)
                    );
                }
            }
        }
        // The examples reserve nothing by default either.
        for (dir, module) in [("examples/master", "master"), ("examples/agent", "agent")] {
            let m = Module::load(dir);
            let call = m
                .blocks
                .iter()
                .find(|b| b.identifier.as_str() == "module" && label(b, 0) == module)
                .unwrap_or_else(|| panic!("{dir}: no module \"{module}\""));
            if let Some(e) = attr(&call.body, "reserved_concurrency") {
                let var = root_attr(e, "var")
                    .unwrap_or_else(|| panic!("{dir}: reserved_concurrency = {}", text(e)));
                let default = attr(&m.variable(var).body, "default");
                assert!(
                    matches!(default, Some(Expression::Object(o)) if o.is_empty()),
                    "{dir}: var.{var} must default to {{}}, not {:?}",
                    default.map(text)
                );
            }
        }
    }

    /// The stage's access and execution logs need the account's API Gateway
    /// CloudWatch Logs role (`aws_api_gateway_account`); without it the stage
    /// fails to create. Either the module creates that setting by default
    /// (and the stage waits for it), or the stage has no static access log
    /// settings.
    #[test]
    fn api_logging_has_the_account_role_by_default() {
        let m = Module::load("modules/master");
        let stage = m.one("resource", "aws_api_gateway_stage", "this");
        if !blocks(&stage.body, "access_log_settings").any(|_| true) {
            return;
        }
        let account = m
            .all("resource", "aws_api_gateway_account")
            .next()
            .expect("the stage logs, so the module must manage aws_api_gateway_account");
        let by_default = match attr(&account.body, "count") {
            None => true,
            Some(Expression::Conditional(c)) => {
                let var = root_attr(&c.cond_expr, "var").expect("count = var.X ? 1 : 0");
                matches!(
                    attr(&m.variable(var).body, "default"),
                    Some(Expression::Bool(true))
                ) && text(&c.true_expr) == "1"
            }
            Some(other) => panic!("aws_api_gateway_account count: {}", text(other)),
        };
        assert!(
            by_default,
            "access logging is on, but aws_api_gateway_account is not created by default: a first apply fails with \"CloudWatch Logs role ARN must be set in account settings to enable logging\""
        );
        let waits = attr(&stage.body, "depends_on").is_some_and(|d| {
            text(d).contains(&format!("aws_api_gateway_account.{}", label(account, 1)))
        });
        assert!(waits, "the stage must depend on aws_api_gateway_account");
        let role = attr(&account.body, "cloudwatch_role_arn")
            .and_then(|e| ref_to(e, "aws_iam_role"))
            .expect("cloudwatch_role_arn = aws_iam_role.X.arn");
        let role_block = m.one("resource", "aws_iam_role", &role);
        assert_eq!(
            attr(&role_block.body, "count").map(text),
            attr(&account.body, "count").map(text),
            "the role exists whenever the setting does"
        );
    }

    /// A browser cannot sign a CORS preflight, so an `AWS_IAM` OPTIONS
    /// method always fails it. Either every OPTIONS method is open
    /// (`authorization = "NONE"`) with a MOCK integration, or there is none
    /// and the module claims no CORS.
    #[test]
    fn cors_preflight_is_open_and_mocked_or_absent() {
        let m = Module::load("modules/master");
        let options: Vec<_> = m
            .all("resource", "aws_api_gateway_method")
            .filter(|b| attr(&b.body, "http_method").is_some_and(|e| text(e).contains("OPTIONS")))
            .collect();
        if options.is_empty() {
            for claim in [
                "Access-Control-Allow-Origin",
                "Access-Control-Allow-Methods",
            ] {
                assert!(
                    !m.text.contains(claim),
                    "no OPTIONS method, yet the module sets {claim}"
                );
            }
            let cors_variables: Vec<_> = m
                .blocks
                .iter()
                .filter(|b| b.identifier.as_str() == "variable" && label(b, 0).contains("cors"))
                .map(|b| label(b, 0).to_owned())
                .collect();
            assert!(
                cors_variables.is_empty(),
                "no OPTIONS method, yet CORS variables: {cors_variables:?}"
            );
            return;
        }
        for method in options {
            let name = label(method, 1);
            assert_eq!(
                attr(&method.body, "authorization").and_then(literal),
                Some("NONE"),
                "aws_api_gateway_method.{name}: a preflight cannot be signed"
            );
            let mocked = m.all("resource", "aws_api_gateway_integration").any(|i| {
                attr(&i.body, "http_method")
                    .and_then(|e| ref_to(e, "aws_api_gateway_method"))
                    .as_deref()
                    == Some(name)
                    && attr(&i.body, "type").and_then(literal) == Some("MOCK")
            });
            assert!(
                mocked,
                "aws_api_gateway_method.{name} needs a MOCK integration"
            );
        }
    }

    // ------------------------------------------------------------------
    // Agents in any region
    // ------------------------------------------------------------------

    /// The agent's envelopes (`monitoring.agent`, `monitoring.agent.logs`)
    /// reach the master through a default-bus rule (so EventBridge keeps the
    /// agent's account and region), with a role, a retry policy and a
    /// dead-letter queue; the master's config pushes (`monitoring.master`)
    /// are never forwarded back; the master bus admits every forwarded
    /// source, only from the agent accounts or the organisation.
    #[test]
    fn agents_forward_their_envelopes_to_the_master_bus_and_never_the_masters_pushes() {
        let agent = Module::load("modules/agent");
        let locals = agent.locals();
        let mut forwarded = BTreeSet::new();
        let mut rules = Vec::new();
        for target in agent.all("resource", "aws_cloudwatch_event_target") {
            let body = &target.body;
            if attr(body, "arn").and_then(|e| root_attr(e, "var")) != Some("master_event_bus_arn") {
                continue;
            }
            let address = format!("aws_cloudwatch_event_target.{}", label(target, 1));
            let retry = blocks(body, "retry_policy")
                .next()
                .unwrap_or_else(|| panic!("{address}: no retry_policy"));
            for a in ["maximum_retry_attempts", "maximum_event_age_in_seconds"] {
                assert!(
                    attr(&retry.body, a).is_some(),
                    "{address}: retry_policy without {a}"
                );
            }
            let dlq = blocks(body, "dead_letter_config")
                .next()
                .and_then(|d| attr(&d.body, "arn"))
                .and_then(|e| ref_to(e, "aws_sqs_queue"))
                .unwrap_or_else(|| {
                    panic!("{address}: no dead_letter_config {{ arn = aws_sqs_queue.X.arn }}")
                });
            agent.one("resource", "aws_sqs_queue", &dlq);
            let role = attr(body, "role_arn")
                .and_then(|e| ref_to(e, "aws_iam_role"))
                .unwrap_or_else(|| panic!("{address}: a bus in another account needs role_arn"));
            let grants = role_grants(&agent, &role);
            assert!(
                grants.iter().any(|(actions, resources)| actions == &["events:PutEvents"]
                    && resources == "[var.master_event_bus_arn]"),
                "aws_iam_role.{role} must be allowed events:PutEvents on the master bus: {grants:?}"
            );

            let rule_name = attr(body, "rule")
                .and_then(|e| ref_to(e, "aws_cloudwatch_event_rule"))
                .unwrap_or_else(|| panic!("{address}: rule = aws_cloudwatch_event_rule.X.name"));
            let rule = agent.one("resource", "aws_cloudwatch_event_rule", &rule_name);
            assert!(
                attr(&rule.body, "event_bus_name").is_none_or(|e| literal(e) == Some("default")),
                "aws_cloudwatch_event_rule.{rule_name} must be on the default bus, where the agent publishes"
            );
            let pattern = attr(&rule.body, "event_pattern").unwrap_or_else(|| {
                panic!("aws_cloudwatch_event_rule.{rule_name}: no event_pattern")
            });
            let mut entries = Vec::new();
            objects(pattern, &locals, &mut entries);
            assert!(
                !entries.is_empty(),
                "{rule_name}: event_pattern holds no object"
            );
            let mut sources = BTreeSet::new();
            for entry in &entries {
                if keys_of(entry) == ["$or"] {
                    continue;
                }
                let source = object_get(entry, "source").unwrap_or_else(|| {
                    panic!(
                        "{rule_name}: a pattern entry without source forwards every source, monitoring.master included: {}",
                        text(entry)
                    )
                });
                let source = resolve(source, &locals);
                let Expression::Array(items) = &source else {
                    panic!("{rule_name}: source is not a list: {}", text(&source));
                };
                for item in items {
                    let name = literal(item).unwrap_or_else(|| {
                        panic!(
                            "{rule_name}: source values must be exact names (no prefix, anything-but or wildcard): {}",
                            text(&source)
                        )
                    });
                    sources.insert(name.to_owned());
                }
            }
            if sources.iter().any(|s| s.starts_with("monitoring.")) {
                assert!(
                    attr(&rule.body, "count").is_none() && attr(&rule.body, "for_each").is_none(),
                    "{rule_name} forwards the agent's envelopes: it must always exist"
                );
            }
            forwarded.extend(sources);
            rules.push(rule_name);
        }
        assert!(
            !rules.is_empty(),
            "no default-bus rule targets var.master_event_bus_arn"
        );
        for source in ["monitoring.agent", "monitoring.agent.logs"] {
            assert!(
                forwarded.contains(source),
                "no rule forwards {source} to the master bus (forwarded: {forwarded:?})"
            );
        }
        assert!(
            !forwarded.contains("monitoring.master"),
            "a rule forwards the master's config pushes back to it"
        );

        // The master bus admits every forwarded source, and no other
        // principal than the agent accounts or the organisation.
        let master = Module::load("modules/master");
        let bus_sources: BTreeSet<String> = master
            .locals()
            .get("bus_sources")
            .map(literals)
            .expect("local.bus_sources")
            .into_iter()
            .collect();
        let refused: Vec<_> = forwarded.difference(&bus_sources).collect();
        assert!(
            refused.is_empty(),
            "the master bus refuses forwarded sources {refused:?}"
        );
        assert!(!bus_sources.contains("monitoring.master"));
        let doc = master.one("data", "aws_iam_policy_document", "event_bus");
        let statements = statements(doc);
        assert!(!statements.is_empty());
        for st in statements {
            assert_eq!(
                attr(st, "actions").map(literals),
                Some(vec!["events:PutEvents".to_owned()])
            );
            let conditions: Vec<(String, String)> = blocks(st, "condition")
                .map(|c| {
                    (
                        attr(&c.body, "variable")
                            .and_then(literal)
                            .unwrap_or_default()
                            .to_owned(),
                        attr(&c.body, "values").map(text).unwrap_or_default(),
                    )
                })
                .collect();
            assert!(
                conditions.contains(&("events:source".to_owned(), "local.bus_sources".to_owned())),
                "every statement is limited to local.bus_sources: {conditions:?}"
            );
            let principals = blocks(st, "principals")
                .next()
                .and_then(|p| attr(&p.body, "identifiers"))
                .map(text)
                .unwrap_or_default();
            if principals.contains("\"*\"") {
                assert!(
                    conditions.iter().any(|(v, _)| v == "aws:PrincipalOrgID"),
                    "everyone only within the organisation"
                );
            } else {
                assert!(
                    principals.contains(":root"),
                    "account roots only: {principals}"
                );
            }
        }
    }

    /// The agent function publishes to its own account's default bus in its
    /// own region (EventBridge stamps that account and region), never
    /// directly to the master bus.
    #[test]
    fn the_agent_function_puts_events_only_on_its_own_default_bus() {
        let agent = Module::load("modules/agent");
        let function = agent.one("resource", "aws_lambda_function", "this");
        let role = attr(&function.body, "role")
            .and_then(|e| ref_to(e, "aws_iam_role"))
            .expect("role = aws_iam_role.X.arn");
        let grants = role_grants(&agent, &role);
        let events: Vec<_> = grants
            .iter()
            .filter(|(actions, _)| actions.iter().any(|a| a.starts_with("events:")))
            .collect();
        let own_default_bus = [
            "[data.aws_cloudwatch_event_bus.default.arn]",
            "[\"arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/default\"]",
        ];
        assert!(
            !events.is_empty(),
            "the agent function cannot publish: {grants:?}"
        );
        for (actions, resources) in &events {
            assert_eq!(actions, &["events:PutEvents"], "{resources}");
            assert!(
                own_default_bus.contains(&resources.as_str()),
                "the agent function may put events only on its own default bus, not on {resources}"
            );
        }
        let bus = agent.one("data", "aws_cloudwatch_event_bus", "default");
        assert_eq!(attr(&bus.body, "name").and_then(literal), Some("default"));
        assert!(
            attr(&bus.body, "provider").is_none(),
            "the bus of the module's own region"
        );
    }

    /// `MASTER_EVENT_BUS_ARN` is no longer read by query-error-logs: the
    /// function is not told the master bus at all.
    #[test]
    fn the_agent_function_is_not_told_the_master_bus() {
        let agent = Module::load("modules/agent");
        let function = agent.one("resource", "aws_lambda_function", "this");
        let env = blocks(&function.body, "environment")
            .next()
            .and_then(|e| attr(&e.body, "variables"))
            .expect("environment { variables = {...} }");
        let keys = keys_of(env);
        assert!(keys.contains(&"AGENT_ACCOUNT_ID".to_owned()), "{keys:?}");
        assert!(
            !keys.contains(&"MASTER_EVENT_BUS_ARN".to_owned()),
            "MASTER_EVENT_BUS_ARN is still in the environment: {keys:?}"
        );
        let body = hcl::format::to_string(function).expect("format");
        assert!(
            !body.contains("master_event_bus_arn"),
            "the function still refers to the master bus"
        );
    }
}
