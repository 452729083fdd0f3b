#[test]
fn the_local_api_listens_on_loopback_by_default() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_monitoring"))
        .args(["local", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    assert!(help.contains("[default: 127.0.0.1:8080]"), "{help}");
}
