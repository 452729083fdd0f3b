use crate::common::*;
use crate::support::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::cursor::CursorCodec;
use handlers::local::DataDir;
use serde_json::json;

#[tokio::test]
async fn a_cursor_signed_with_another_key_or_tampered_or_oversized_is_400() {
    let ours = fixture_with_key(b"deployment-one-key-0123456789abcdef");
    seed_alarms(&ours).await;
    // Another deployment (another key) over the very same data.
    let mut theirs = fixture_with_key(b"deployment-two-key-0123456789abcdef");
    theirs.api.events = ours.events.clone();
    theirs.api.agents = ours.agents.clone();
    ours.deliver(&envelope(
        "monitoring.agent",
        "Agent Heartbeat",
        OTHER,
        &[],
        json!({"version": "0.1.0"}),
    ))
    .await;
    ours.deliver(&envelope(
        "monitoring.agent",
        "Agent Heartbeat",
        ACCOUNT,
        &[],
        json!({"version": "0.1.0"}),
    ))
    .await;
    let page = |api: &'static str| match api {
        "events" => ("/events", vec![("limit", "2")]),
        _ => ("/agents", vec![("limit", "1")]),
    };
    for kind in ["events", "agents"] {
        let (path, q) = page(kind);
        let (s, first) = call_api(&theirs.api, "GET", path, path, &q, None).await;
        assert_eq!(s, 200);
        let foreign = first["next_cursor"].as_str().unwrap().to_owned();
        let mut with = q.clone();
        with.push(("cursor", foreign.as_str()));
        let (s, body) = call_api(&ours.api, "GET", path, path, &with, None).await;
        assert_eq!(s, 400, "{kind}: a cursor of another key: {body}");
        assert_eq!(body["error"]["code"], "bad_request");
        // Its own key accepts it: the 400 is the signature, not the content.
        assert_eq!(
            call_api(&theirs.api, "GET", path, path, &with, None)
                .await
                .0,
            200
        );
    }

    let (_, first) = call_api(
        &ours.api,
        "GET",
        "/events",
        "/events",
        &[("limit", "2")],
        None,
    )
    .await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (payload, tag) = cursor.split_once('.').unwrap();
    // The payload rewritten (a valid base64url JSON of another page key) under the old tag.
    let forged_payload = URL_SAFE_NO_PAD.encode(
        String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap()
            .replace("10:0", "10:1"),
    );
    assert_ne!(forged_payload, payload, "the page key was rewritten");
    let too_long = format!("{}.{tag}", "A".repeat(5000));
    let agents_cursor = {
        let (_, a) = call_api(
            &ours.api,
            "GET",
            "/agents",
            "/agents",
            &[("limit", "1")],
            None,
        )
        .await;
        a["next_cursor"].as_str().unwrap().to_owned()
    };
    for bad in [
        format!("{forged_payload}.{tag}"),
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
        format!("{payload}."),
        payload.to_owned(),
        too_long,
        agents_cursor,
        "%00".to_owned(),
    ] {
        let (s, body) = call_api(
            &ours.api,
            "GET",
            "/events",
            "/events",
            &[("limit", "2"), ("cursor", bad.as_str())],
            None,
        )
        .await;
        assert_eq!(s, 400, "{bad:.60}: {body}");
    }
    // Bound to its query: the same cursor with another filter or limit is refused.
    for other_query in [
        vec![("limit", "2"), ("severity", "high")],
        vec![("limit", "2"), ("account", ACCOUNT)],
    ] {
        let mut q = other_query;
        q.push(("cursor", cursor.as_str()));
        assert_eq!(
            call_api(&ours.api, "GET", "/events", "/events", &q, None)
                .await
                .0,
            400,
            "{q:?}"
        );
    }
    // The events cursor on /agents was already refused the other way round.
    let (s, _) = call_api(
        &ours.api,
        "GET",
        "/agents",
        "/agents",
        &[("cursor", cursor.as_str())],
        None,
    )
    .await;
    assert_eq!(s, 400);
}

#[test]
fn the_local_cursor_key_is_random_private_stable_and_never_printed() {
    use std::os::unix::fs::PermissionsExt;
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let key_a = DataDir(a.path().to_owned()).cursor_key().unwrap();
    let key_b = DataDir(b.path().to_owned()).cursor_key().unwrap();
    assert_eq!(key_a.len(), 32);
    assert_ne!(key_a, key_b, "each data dir has its own key");
    assert_ne!(key_a, vec![0u8; 32]);
    let file = DataDir(a.path().to_owned()).cursor_key_file();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "cursor.key is readable by its owner only"
    );
    // Kept: a restart signs and checks with the same key.
    assert_eq!(DataDir(a.path().to_owned()).cursor_key().unwrap(), key_a);
    // A short (truncated, hand-written) key file is replaced, not used.
    std::fs::write(&file, b"weak").unwrap();
    let replaced = DataDir(a.path().to_owned()).cursor_key().unwrap();
    assert_eq!(replaced.len(), 32);
    assert_ne!(replaced, b"weak".to_vec());
    // The codec never shows its key.
    let shown = format!("{:?}", CursorCodec::new(b"very-secret-key".to_vec()));
    assert!(!shown.contains("very-secret-key"), "{shown}");
}
