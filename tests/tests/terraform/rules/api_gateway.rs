//! Rule `api-gateway`.

use super::*;
#[allow(unused_imports)]
use e2e_tests::terraform_check::{Allowed, Config, Violation};
#[allow(unused_imports)]
use std::collections::{BTreeMap, BTreeSet};

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
