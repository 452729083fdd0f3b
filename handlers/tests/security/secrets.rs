use domain::inbound::Target;
use handlers::local::rule_for;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.tf` file of a Terraform module, in name order, as one text
/// (Terraform reads a module's files as one configuration).
fn module_text(name: &str) -> String {
    let folder = format!("terraform/modules/{name}/");
    let mut files: Vec<(String, String)> = tf_files()
        .into_iter()
        .filter(|(rel, _)| rel.strip_prefix(&folder).is_some_and(|f| !f.contains('/')))
        .collect();
    assert!(!files.is_empty(), "no .tf file in {folder}");
    files.sort();
    let texts: Vec<String> = files.into_iter().map(|(_, text)| text).collect();
    texts.join("\n")
}

/// The text of the HCL block that starts with `header` (up to its `{`),
/// matched brace for brace outside string literals.
fn hcl_block<'a>(text: &'a str, header: &str) -> &'a str {
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("no block {header}"));
    let open = start + text[start..].find('{').unwrap();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in text[open..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..=open + i];
                }
            }
            _ => {}
        }
    }
    panic!("block {header} is not closed")
}

/// Every block of a kind (`environment {`), anywhere in `text`.
fn hcl_blocks<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
    let mut out = vec![];
    let mut from = 0;
    while let Some(i) = text[from..].find(header) {
        let block = hcl_block(&text[from + i..], header);
        out.push(block);
        from += i + block.len();
    }
    out
}

/// The text without its whitespace, to compare HCL however it is aligned.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The value of `name = ...` on its own line in a block.
fn hcl_attr<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    block.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// Every `.tf` file under `terraform/`: (path from the repository root, text).
fn tf_files() -> Vec<(String, String)> {
    let mut out = vec![];
    let mut dirs = vec![repo_root().join("terraform")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().unwrap() != ".terraform" {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "tf") {
                let rel = path
                    .strip_prefix(repo_root())
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(out.len() >= 10, "the modules and examples are found");
    out
}

#[test]
fn the_master_bus_admits_only_listed_accounts_or_the_organisation_and_only_this_systems_sources() {
    let main = module_text("master");
    // The sources the bus admits are exactly those the master's rules handle.
    let sources_line = hcl_attr(hcl_block(&main, "locals {"), "bus_sources").unwrap();
    let mut admitted: Vec<&str> = sources_line
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .collect();
    admitted.sort_unstable();
    let (monitoring, deployment) = (
        rule_for(Target::HandleMonitoringEvents),
        rule_for(Target::UpdateDeployment),
    );
    let mut handled: Vec<String> = monitoring
        .sources
        .into_iter()
        .chain(deployment.sources)
        .collect();
    handled.sort_unstable();
    handled.dedup();
    assert_eq!(
        admitted, handled,
        "no other source (monitoring.master included) gets in"
    );

    let policy = hcl_block(&main, "data \"aws_iam_policy_document\" \"event_bus\" {");
    let statements = hcl_blocks(policy, "content {");
    assert_eq!(
        statements.len(),
        2,
        "one statement per way in: accounts, organisation"
    );
    for s in &statements {
        assert_eq!(
            hcl_attr(s, "actions"),
            Some(r#"["events:PutEvents"]"#),
            "{s}"
        );
        assert!(!s.contains("Deny"), "{s}");
        let conditions = hcl_blocks(s, "condition {");
        assert!(
            conditions
                .iter()
                .any(|c| hcl_attr(c, "variable") == Some("\"events:source\"")
                    && hcl_attr(c, "test") == Some("\"StringEquals\"")
                    && hcl_attr(c, "values") == Some("local.bus_sources")),
            "every statement is limited to the system's sources: {s}"
        );
        let principals = hcl_block(s, "principals {");
        match hcl_attr(principals, "identifiers").unwrap() {
            r#"["*"]"# => assert!(
                conditions.iter().any(|c| hcl_attr(c, "variable")
                    == Some("\"aws:PrincipalOrgID\"")
                    && hcl_attr(c, "values") == Some("[statement.value]")),
                "everyone only within the organisation: {s}"
            ),
            ids => assert!(
                ids.contains("var.agent_account_ids") || ids.contains("statement.value"),
                "only the listed accounts: {ids}"
            ),
        }
    }
    // The agents' default bus, in turn, takes config pushes only from the
    // master's account, only as monitoring.master, and routes only those.
    let agent = module_text("agent");
    let default_bus = hcl_block(&agent, "data \"aws_iam_policy_document\" \"default_bus\" {");
    let statement = hcl_block(default_bus, "statement {");
    assert!(
        squash(hcl_block(statement, "principals {")).contains("iam::${var.master_account_id}:root")
    );
    let condition = hcl_block(statement, "condition {");
    assert_eq!(hcl_attr(condition, "variable"), Some("\"events:source\""));
    assert_eq!(
        hcl_attr(condition, "values"),
        Some(r#"["monitoring.master"]"#)
    );
    let rule = hcl_block(
        &agent,
        "resource \"aws_cloudwatch_event_rule\" \"config_update\" {",
    );
    assert!(
        squash(rule).contains("account=[var.master_account_id]"),
        "{rule}"
    );
}

#[test]
fn the_cursor_key_is_a_securestring_and_no_function_environment_holds_a_secret() {
    let main = module_text("master");
    let parameter = hcl_block(&main, "resource \"aws_ssm_parameter\" \"cursor_key\" {");
    assert_eq!(hcl_attr(parameter, "type"), Some("\"SecureString\""));
    assert_eq!(hcl_attr(parameter, "key_id"), Some("aws_kms_key.this.arn"));
    assert_eq!(
        hcl_attr(parameter, "value"),
        Some("random_password.cursor_key.result")
    );
    let env = hcl_block(&main, "api_environment = {");
    assert_eq!(
        hcl_attr(env, "CURSOR_KEY_PARAMETER"),
        Some("aws_ssm_parameter.cursor_key.name"),
        "the function gets the parameter's name, not its value"
    );
    // Only the API functions may read it.
    let read_key = hcl_block(&main, "data \"aws_iam_policy_document\" \"api_read\" {");
    assert!(squash(read_key).contains("resources=[aws_ssm_parameter.cursor_key.arn]"));
    assert_eq!(main.matches("aws_ssm_parameter.cursor_key.arn").count(), 1);

    let secret_sources = [
        "random_password.",
        "random_string.",
        "tls_private_key.",
        "aws_secretsmanager_secret_version.",
        "aws_iam_access_key.",
        ".value",
        ".result",
    ];
    let mut environments = 0;
    let mut references_to_the_key = 0;
    for (file, text) in tf_files() {
        references_to_the_key += text.matches("random_password.cursor_key").count();
        // The function module's one `environment` block, and the maps the
        // modules pass it (`environment = {`, `api_environment = {`, ...).
        let blocks = hcl_blocks(&text, "environment {");
        for env in blocks
            .into_iter()
            .chain(hcl_blocks(&text, "environment = {"))
        {
            environments += 1;
            for source in secret_sources {
                assert!(!env.contains(source), "{file}: {source} in {env}");
            }
        }
        // No variable holds a secret default either: nothing is `sensitive`.
        for var in hcl_blocks(&text, "variable \"") {
            assert!(!var.contains("sensitive"), "{file}: {var}");
        }
        assert!(!text.contains("aws_secretsmanager"), "{file}");
    }
    // The function module's block; the master's three maps, the API's
    // shared one and notify's; the agent's map and stream-error-logs'.
    assert_eq!(environments, 8, "every kind of function is seen");
    assert_eq!(
        references_to_the_key, 1,
        "the key's value goes into the SSM parameter and nowhere else (no output, no environment)"
    );
}

/// Documentation placeholders: three 4-digit runs of one digit each, like
/// AWS's own `111122223333` and `444455556666`, and `123456789012`.
fn is_placeholder_account(id: &str) -> bool {
    let b = id.as_bytes();
    id == "123456789012" || b.chunks(4).all(|run| run.iter().all(|d| *d == run[0]))
}

/// Tracked files (what a commit publishes), as `git ls-files` names them.
fn tracked_files() -> Vec<PathBuf> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo_root())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<PathBuf> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| repo_root().join(String::from_utf8_lossy(p).as_ref()))
        .filter(|p| p.is_file())
        .collect();
    assert!(files.len() > 50, "{} files", files.len());
    files
}

/// Every run of ASCII letters, digits and `_` in `text`, with its offset.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.char_indices()
        .filter(move |(i, c)| is_word(*c) && !text[..*i].chars().next_back().is_some_and(is_word))
        .map(move |(i, _)| {
            let end = text[i..]
                .find(|c: char| !is_word(c))
                .map_or(text.len(), |n| i + n);
            (i, &text[i..end])
        })
}

/// What in `text` looks like a real account id, access key or private key.
fn findings(text: &str) -> Vec<String> {
    let mut found = vec![];
    let line = |i: usize| text[..i].matches('\n').count() + 1;
    for (i, token) in tokens(text) {
        // An account id: exactly 12 digits standing alone (not part of a
        // longer number, a hex digest or the last group of a UUID).
        let uuid_tail = i >= 24
            && text.is_char_boundary(i - 24)
            && text[i - 24..i].chars().filter(|c| *c == '-').count() == 4
            && text[i - 24..i]
                .chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit());
        if token.len() == 12
            && token.bytes().all(|b| b.is_ascii_digit())
            && !uuid_tail
            && !is_placeholder_account(token)
        {
            found.push(format!("{}: account id {token}", line(i)));
        }
        // An access key id (AKIA long-term, ASIA temporary): only AWS's
        // documented example may appear.
        if token.len() == 20
            && (token.starts_with("AKIA") || token.starts_with("ASIA"))
            && token
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && !token.ends_with("EXAMPLE")
        {
            found.push(format!("{}: access key id {token}", line(i)));
        }
    }
    // Spelled in two pieces so that this file does not report itself.
    if let Some(i) = text.find(concat!("PRIVATE", " KEY-----")) {
        found.push(format!("{}: a private key", line(i)));
    }
    found
}

#[test]
fn the_repository_holds_no_real_account_ids_or_access_keys() {
    let mut found = vec![];
    // What a commit publishes, and this review even before it is committed.
    let mut files = tracked_files();
    let this_review = repo_root().join("handlers/tests/security");
    files.extend(
        std::fs::read_dir(&this_review)
            .unwrap()
            .map(|entry| entry.unwrap().path()),
    );
    files.push(repo_root().join("SECURITY.md"));
    files.sort();
    files.dedup();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not text
        };
        let rel = path
            .strip_prefix(repo_root())
            .unwrap()
            .display()
            .to_string();
        found.extend(findings(&text).into_iter().map(|f| format!("{rel}:{f}")));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));

    // The rule itself, on text built here (a literal would be reported).
    let real = format!("{}{}", "4130", "99315636");
    let key = format!("{}{}", "AKIA", "Q3EGRQ7ZNP2KLM4T");
    let sample = format!(
        "ok: 111122223333 123456789012 arn:aws:iam::000000000000:root\n\
         ok: sha {real}c588 id 550e8400-e29b-41d4-a716-{} n={real}7\n\
         ok: AKIAIOSFODNN7EXAMPLE\n\
         bad: arn:aws:iam::{real}:root\n\
         bad: {key}\n\
         bad: -----BEGIN RSA {}\n",
        concat!("4466", "55440000"),
        concat!("PRIVATE", " KEY-----"),
    );
    assert_eq!(
        findings(&sample),
        [
            format!("4: account id {real}"),
            format!("5: access key id {key}"),
            "6: a private key".to_owned(),
        ]
    );
}

// The Lambda's cursor key (b, e): read from SSM, decrypted, never from the
// environment (feature `aws`).
#[cfg(feature = "aws")]
mod lambda_cursor_key {
    use aws_sdk_ssm::operation::get_parameter::{GetParameterError, GetParameterOutput};
    use aws_sdk_ssm::types::error::ParameterNotFound;
    use aws_sdk_ssm::types::{Parameter, ParameterType};
    use aws_sdk_ssm::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    const KEY: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";

    /// GetParameter as SSM answers a SecureString asked for decrypted.
    fn secure_string(name: &str, value: &str) -> GetParameterOutput {
        GetParameterOutput::builder()
            .parameter(
                Parameter::builder()
                    .name(name)
                    .r#type(ParameterType::SecureString)
                    .value(value)
                    .version(1)
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn the_lambda_reads_the_cursor_key_from_ssm_decrypted_and_refuses_a_weak_one() {
        // Each rule answers only a request that asks for its parameter
        // decrypted; a request no rule answers fails the test.
        let decrypted = |name: &'static str| {
            move |r: &aws_sdk_ssm::operation::get_parameter::GetParameterInput| {
                r.name() == Some(name) && r.with_decryption() == Some(true)
            }
        };
        let key = mock!(Client::get_parameter)
            .match_requests(decrypted("/monitoring/api/cursor-key"))
            .then_output(|| secure_string("/monitoring/api/cursor-key", KEY));
        let weak = mock!(Client::get_parameter)
            .match_requests(decrypted("/weak"))
            .then_output(|| secure_string("/weak", "short"));
        let missing = mock!(Client::get_parameter)
            .match_requests(decrypted("/missing"))
            .then_error(|| {
                GetParameterError::ParameterNotFound(
                    ParameterNotFound::builder()
                        .message("no such parameter")
                        .build(),
                )
            });
        let ssm = mock_client!(aws_sdk_ssm, RuleMode::MatchAny, &[&key, &weak, &missing]);

        let read = handlers::lambda::cursor_key(&ssm, "/monitoring/api/cursor-key")
            .await
            .unwrap();
        assert_eq!(read, KEY.as_bytes());
        assert_eq!(key.num_calls(), 1, "a SecureString is asked for decrypted");
        let err = handlers::lambda::cursor_key(&ssm, "/weak")
            .await
            .unwrap_err();
        assert!(err.contains("at least 16"), "{err}");
        assert_eq!(weak.num_calls(), 1);
        let err = handlers::lambda::cursor_key(&ssm, "/missing")
            .await
            .unwrap_err();
        assert!(err.contains("/missing"), "{err}");
        assert!(!err.contains(KEY));
        assert_eq!(missing.num_calls(), 1);
        // No variable a Lambda binary reads carries a secret: the key is reached
        // through the parameter's name only.
        for (binary, vars) in handlers::lambda::BINARIES {
            for v in *vars {
                assert!(
                    !["KEY", "SECRET", "PASSWORD", "TOKEN"]
                        .iter()
                        .any(|s| v.name.contains(s))
                        || v.name.ends_with("_PARAMETER"),
                    "{binary}: {}",
                    v.name
                );
            }
        }
    }
}
