//! Rule `secrets`: no secret in a variable's default nor in a Lambda
//! environment. A variable named like a secret (password, secret, token,
//! private key, API key) has no default but null; an environment key named
//! like one is refused unless it names where the secret is
//! (`..._PARAMETER`, `..._ARN`, `..._NAME`): functions read secrets from SSM
//! or Secrets Manager, the environment only holds the parameter's name.
//! Environments are read through module calls as `lambda-env` reads them.

use super::lambda_env::{env_keys, sites};
use crate::terraform_check::model::*;
use crate::terraform_check::Violation;
use hcl::expr::Expression;
use std::collections::BTreeMap;

const SECRET_WORDS: &[&str] = &["password", "secret", "token", "private_key", "api_key"];
const LOCATION_SUFFIXES: &[&str] = &["_parameter", "_arn", "_name"];

fn secret_like(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
        && !LOCATION_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

pub fn check_secrets(m: &Module, modules: &BTreeMap<String, Module>, out: &mut Vec<Violation>) {
    for (name, item) in &m.variables {
        let default = attr(&item.block.body, "default");
        if secret_like(name) && !matches!(default, None | Some(Expression::Null)) {
            out.push(Violation {
                rule: "secrets",
                file: item.file.clone(),
                address: format!("var.{name}"),
                message: "looks like a secret and has a default (only null)".into(),
            });
        }
    }
    for ((t, name), item) in &m.resources {
        if t != "aws_lambda_function" {
            continue;
        }
        for site in sites(m, modules, name, item) {
            let Ok(keys) = env_keys(&site) else { continue };
            for key in keys.iter().filter(|k| secret_like(k)) {
                out.push(Violation {
                    rule: "secrets",
                    file: site.file.clone(),
                    address: site.address.clone(),
                    message: format!(
                        "environment variable {key} looks like a secret: pass the name of an SSM parameter instead"
                    ),
                });
            }
        }
    }
}
