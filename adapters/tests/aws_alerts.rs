//! The notify Lambda's AWS sender against moto: an e-mail channel through SES
//! `SendRawEmail` (read back from moto's `/moto-api/data.json`), an SNS
//! channel through `Publish` (read back from an SQS queue subscribed to the
//! topic), and the channels' secrets resolved from SSM SecureString.
#![cfg(feature = "aws")]
mod common;

use adapters::alert_channels::{HttpDelivery, RetryPolicy};
use adapters::aws::alerts::{resolve_secrets, AwsChannels};
use aws_sdk_ssm::types::ParameterType;
use chrono::Utc;
use domain::alerts::{AlertsConfig, Channel, ChannelKind, Rendered, Secret};
use domain::ports::{AlertSender, SendError};
use serde_json::Value;

async fn channels(from: &str) -> AwsChannels {
    let config = common::moto_config().await;
    AwsChannels {
        http: HttpDelivery::new(RetryPolicy::default()),
        ses: aws_sdk_ses::Client::new(&config),
        from: from.to_owned(),
        sns: aws_sdk_sns::Client::new(&config),
    }
}

fn channel(json: &str) -> Channel {
    AlertsConfig::from_json(&format!(r#"{{"channels": [{json}]}}"#))
        .expect("a valid channel")
        .channels
        .remove(0)
}

/// moto's view of everything it holds.
fn moto_data() -> Value {
    let url = format!("{}/moto-api/data.json", common::moto_endpoint());
    let out = std::process::Command::new("curl")
        .args(["-fsS", &url])
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "GET {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("data.json is JSON")
}

#[tokio::test]
async fn an_email_alert_goes_through_ses_from_the_sender_to_the_channel() {
    let config = common::moto_config().await;
    let ses = aws_sdk_ses::Client::new(&config);
    let from = format!("{}@example.com", common::unique("alerts"));
    ses.verify_email_identity()
        .email_address(&from)
        .send()
        .await
        .expect("VerifyEmailIdentity");
    let to = format!("{}@example.com", common::unique("oncall"));
    let channel = channel(&format!(
        r#"{{"name": "mail", "kind": "email", "to": ["{to}"]}}"#
    ));
    let subject = format!("[critical] {}", common::unique("opened"));
    let rendered = Rendered::Email {
        subject: subject.clone(),
        text: "SSH brute force against i-99999999".into(),
        html: "<p>SSH brute force against i-99999999</p>".into(),
    };

    channels(&from)
        .await
        .send(&channel, "msg_1", Utc::now(), &rendered)
        .await
        .expect("sent");

    let data = moto_data();
    let sent: Vec<&Value> = data["ses"]["RawMessage"]
        .as_array()
        .expect("ses.RawMessage in data.json")
        .iter()
        .filter(|m| m["raw_data"].as_str().is_some_and(|r| r.contains(&subject)))
        .collect();
    assert_eq!(sent.len(), 1, "one message with the subject {subject}");
    assert_eq!(sent[0]["source"], from.as_str());
    let destinations = sent[0]["destinations"].to_string();
    assert!(destinations.contains(&to), "{destinations}");
    let raw = sent[0]["raw_data"].as_str().unwrap();
    assert!(raw.contains(&format!("From: {from}")), "{raw}");
    assert!(raw.contains(&format!("To: {to}")), "{raw}");
}

#[tokio::test]
async fn an_email_alert_from_an_unverified_sender_is_a_permanent_error() {
    let channel = channel(r#"{"name": "mail", "kind": "email", "to": ["ops@example.com"]}"#);
    let from = format!("{}@example.com", common::unique("unverified"));
    let rendered = Rendered::Email {
        subject: "s".into(),
        text: "t".into(),
        html: "<p>h</p>".into(),
    };
    match channels(&from)
        .await
        .send(&channel, "msg_2", Utc::now(), &rendered)
        .await
    {
        Err(SendError::Port(domain::ports::PortError::Permanent(m))) => {
            assert!(m.contains("SendRawEmail"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_sns_alert_is_published_with_its_subject_text_and_message_id() {
    let config = common::moto_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let topic_arn = sns
        .create_topic()
        .name(common::unique("alerts"))
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("a topic ARN");
    let queue_url = sqs
        .create_queue()
        .queue_name(common::unique("alerts-inbox"))
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a queue URL");
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("a queue ARN");
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .send()
        .await
        .expect("Subscribe");
    let channel = channel(&format!(
        r#"{{"name": "pager", "kind": "sns", "topic_arn": "{topic_arn}"}}"#
    ));
    let rendered = Rendered::Sns {
        subject: "[critical] SSH brute force".into(),
        text: "SSH brute force against i-99999999\nhttps://console.example.com/events/x".into(),
    };

    channels("unused@example.com")
        .await
        .send(&channel, "msg_3", Utc::now(), &rendered)
        .await
        .expect("published");

    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .expect("ReceiveMessage");
    let messages = received.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let envelope: Value =
        serde_json::from_str(messages[0].body().expect("a body")).expect("an SNS envelope");
    assert_eq!(envelope["TopicArn"], topic_arn.as_str());
    assert_eq!(envelope["Subject"], "[critical] SSH brute force");
    assert_eq!(
        envelope["Message"],
        "SSH brute force against i-99999999\nhttps://console.example.com/events/x"
    );
    assert_eq!(
        envelope["MessageAttributes"]["webhook-id"]["Value"], "msg_3",
        "{envelope}"
    );
}

#[tokio::test]
async fn channel_secrets_are_read_from_ssm_securestrings() {
    let config = common::moto_config().await;
    let ssm = aws_sdk_ssm::Client::new(&config);
    let slack = format!("/monitoring/test/{}", common::unique("slack-url"));
    let hook = format!("/monitoring/test/{}", common::unique("webhook-secret"));
    for (name, value) in [
        (&slack, "https://hooks.slack.com/services/T000/B000/XXXX"),
        (&hook, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .send()
            .await
            .expect("PutParameter");
    }
    let mut alerts = AlertsConfig::from_json(&format!(
        r#"{{"channels": [
            {{"name": "chat", "kind": "slack", "url_parameter": "{slack}"}},
            {{"name": "hook", "kind": "webhook", "url": "https://hooks.example.com/alerts",
              "secret_parameter": "{hook}"}},
            {{"name": "mail", "kind": "email", "to": ["ops@example.com"]}}
        ]}}"#
    ))
    .unwrap();

    resolve_secrets(&ssm, &mut alerts).await.expect("resolved");

    assert_eq!(
        alerts.channels[0].kind,
        ChannelKind::Slack {
            url: Secret::Value("https://hooks.slack.com/services/T000/B000/XXXX".into())
        }
    );
    assert_eq!(
        alerts.channels[1].kind,
        ChannelKind::Webhook {
            url: "https://hooks.example.com/alerts".into(),
            secret: Secret::Value("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into())
        }
    );
}

#[tokio::test]
async fn a_missing_secret_parameter_is_named_without_any_value() {
    let ssm = aws_sdk_ssm::Client::new(&common::moto_config().await);
    let missing = format!("/monitoring/test/{}", common::unique("absent"));
    let mut alerts = AlertsConfig::from_json(&format!(
        r#"{{"channels": [{{"name": "chat", "kind": "slack", "url_parameter": "{missing}"}}]}}"#
    ))
    .unwrap();
    let error = resolve_secrets(&ssm, &mut alerts).await.unwrap_err();
    assert!(error.contains(&missing), "{error}");
}
