//! Rule `secrets`.

use super::*;

#[test]
fn secrets_are_neither_defaults_nor_lambda_environment() {
    let with_default = r#"
variable "db_password" {
  description = "x"
  type        = string
  default     = "hunter2"
}

resource "aws_sqs_queue" "q" {
  sqs_managed_sse_enabled = true
  name                    = var.db_password
}
"#;
    let vs = run(&[("m/main.tf", with_default)]);
    assert_reports(&vs, "secrets", "var.db_password", "looks like a secret");
    assert_clean(&[("m/main.tf", &with_default.replace("\"hunter2\"", "null"))]);

    // An environment key named like a secret, unless it names where it is.
    let in_env = lambda(&[(
        "RETENTION_DAYS = \"30\"",
        "RETENTION_DAYS = \"30\"\n      API_TOKEN = \"abc\"",
    )]);
    let vs = run_with(
        &[("m/main.tf", &in_env)],
        &Config {
            binaries: None,
            allowed: Vec::new(),
        },
    );
    assert_reports(&vs, "secrets", "aws_lambda_function.worker", "API_TOKEN");
    let by_name = in_env.replace("API_TOKEN = \"abc\"", "API_TOKEN_PARAMETER = \"/x\"");
    let vs = run_with(
        &[("m/main.tf", &by_name)],
        &Config {
            binaries: None,
            allowed: Vec::new(),
        },
    );
    assert!(of_rule(&vs, "secrets").is_empty(), "{}", show(&vs));
}
