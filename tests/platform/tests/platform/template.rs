//! template.yaml, read as text: that its generated blocks are current (`huddle template`), which
//! functions get the cursor secret, and how they log. (cfn-lint and `sam validate`, run by
//! scripts/test, check that it is a valid template.)

use huddle_runner::template;
use std::path::Path;

fn template() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
    std::fs::read_to_string(path).expect("read template.yaml")
}

/// Each resource of the template: its logical id and the lines of its block, comments left out.
fn resources(template: &str) -> Vec<(&str, Vec<&str>)> {
    let (_, body) = template.split_once("\nResources:\n").expect("template.yaml has Resources");
    let mut resources: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in body.lines().filter(|line| !line.trim_start().starts_with('#')) {
        if !line.is_empty() && !line.starts_with(' ') {
            break; // the next top-level section
        }
        match line.strip_prefix("  ").and_then(|rest| rest.strip_suffix(':')) {
            Some(id) if !id.starts_with(' ') => resources.push((id, Vec::new())),
            _ => {
                if let Some((_, lines)) = resources.last_mut() {
                    lines.push(line.trim());
                }
            }
        }
    }
    resources
}

#[test]
fn the_cursor_secret_reaches_exactly_the_functions_that_answer_http_requests() {
    let template = template();
    let resources = resources(&template);
    let secret = resources.iter().find(|(id, _)| *id == "CursorSecret").expect("a CursorSecret resource");
    assert!(
        secret.1.contains(&"Type: AWS::SecretsManager::Secret")
            && secret.1.contains(&"GenerateSecretString:")
    );

    let reference =
        r#"CURSOR_SECRET: !Join ["", ["{{resolve:secretsmanager:", !Ref CursorSecret, ":SecretString}}"]]"#;
    let functions: Vec<_> =
        resources.iter().filter(|(_, lines)| lines.contains(&"Type: AWS::Serverless::Function")).collect();
    let mut answering = Vec::new();
    for (id, lines) in &functions {
        let cursor_lines: Vec<&str> =
            lines.iter().copied().filter(|line| line.contains("CURSOR_SECRET")).collect();
        if lines.contains(&"Type: HttpApi") && *id != "NotFoundFunction" {
            assert_eq!(cursor_lines, [reference], "{id} answers HTTP requests, so it pages");
            answering.push(*id);
        } else {
            assert_eq!(
                cursor_lines,
                Vec::<&str>::new(),
                "{id} never pages: it must not hold the cursor secret"
            );
        }
    }
    let every_command_and_query: Vec<String> = huddle_runner::domains_as_declared()
        .iter()
        .flat_map(|domain| {
            ["Command", "Query"].map(|role| huddle_runner::template::function_id(domain.name(), role))
        })
        .collect();
    assert_eq!(answering, every_command_and_query);
    assert!(functions.len() > answering.len(), "the fan-out, authorizer and projector were looked at too");
}

#[test]
fn unmatched_routes_reach_the_not_found_function_which_can_only_log() {
    let template = template();
    let resources = resources(&template);
    let function = resource(&resources, "NotFoundFunction");
    assert!(function.contains(&"Binary: not-found") && function.contains(&"Role: !GetAtt NotFoundRole.Arn"));
    let event = ["Type: HttpApi", "ApiId: !Ref HttpApi", "Path: $default", "Method: ANY", "Authorizer: NONE"];
    for line in event {
        assert!(function.contains(&line), "NotFoundFunction's event lacks `{line}`: {function:?}");
    }
    assert!(
        !function.iter().any(|line| line.contains("secretsmanager") || line.starts_with("EVENTS_TABLE")),
        "it reads no secret and no table"
    );
    let role = resource(&resources, "NotFoundRole");
    let grants: Vec<&str> = role.iter().filter_map(|line| line.strip_prefix("Action: ")).collect();
    assert_eq!(grants, ["sts:AssumeRole", "[logs:CreateLogStream, logs:PutLogEvents]"]);
    assert!(role.contains(&"Resource: !GetAtt NotFoundLogGroup.Arn"));
}

#[test]
fn functions_log_through_huddles_own_filter_and_never_set_rust_log() {
    let template = template();
    assert!(
        template.contains("    Environment:\n      Variables:\n        HUDDLE_LOG_LEVEL: !Ref LogLevel\n"),
        "Globals give every function HUDDLE_LOG_LEVEL"
    );
    assert!(!template.contains("RUST_LOG:"), "RUST_LOG would bring every library's debug output back");
}

/// The lines of the resource `id`.
fn resource<'a>(resources: &'a [(&str, Vec<&'a str>)], id: &str) -> &'a [&'a str] {
    let (_, lines) = resources.iter().find(|(found, _)| *found == id).unwrap_or_else(|| panic!("no {id}"));
    lines
}

/// The generated files (template.yaml's per-domain blocks, with each subscription's filter
/// policy written from `consumes()`, and openapi.json) are what the declarations say now.
#[test]
fn the_generated_files_are_what_the_declarations_generate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = template::generated_files(&root, &huddle_runner::domains_as_declared()).expect("generate");
    for generated in ["template.yaml", "openapi.json"] {
        assert!(files.iter().any(|file| file.path == Path::new(generated)));
    }
    let stale = template::check(&root, &files).expect("read the checked-in files");
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn the_fan_out_reads_its_stream_from_the_oldest_record() {
    let template = template();
    let resources = resources(&template);
    let fan_out = resource(&resources, "FanoutFunction");
    assert!(
        fan_out.contains(&"StartingPosition: TRIM_HORIZON"),
        "records written before the mapping existed or while it was off must be published too"
    );
}

#[test]
fn the_accounts_projector_parks_at_the_queues_redrive_limit() {
    let template = template();
    let resources = resources(&template);
    assert!(resource(&resources, "AccountsQueue").contains(&"maxReceiveCount: !Ref MaxReceives"));
    assert!(
        resource(&resources, "AccountsProjectorFunction").contains(&"MAX_RECEIVES: !Ref MaxReceives"),
        "the projector parks on the receive after which the queue would dead-letter"
    );
}

#[test]
fn the_accounts_operator_runs_by_hand_and_reaches_only_what_it_repairs() {
    let template = template();
    let resources = resources(&template);
    let operator = resource(&resources, "AccountsOperatorFunction");
    assert!(operator.contains(&"HUDDLE_ROLE: operator") && operator.contains(&"Binary: accounts"));
    assert!(operator.contains(&"Role: !GetAtt AccountsOperatorRole.Arn"));
    assert!(!operator.contains(&"Events:"), "no trigger: an operator invokes it");
    assert!(operator.contains(&"DEAD_LETTER_QUEUE_URL: !Ref AccountsDLQ"));
    assert!(operator.contains(&"DEAD_LETTER_QUEUE_ARN: !GetAtt AccountsDLQ.Arn"));
    let grants: Vec<(&str, &str)> = {
        let role = resource(&resources, "AccountsOperatorRole");
        let actions =
            role.iter().filter_map(|line| line.strip_prefix("Action: ")).filter(|a| *a != "sts:AssumeRole");
        let targets = role.iter().filter_map(|line| line.strip_prefix("Resource: "));
        actions.zip(targets).collect()
    };
    assert_eq!(
        grants,
        [
            ("[logs:CreateLogStream, logs:PutLogEvents]", "!GetAtt AccountsOperatorLogGroup.Arn"),
            ("[sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility]", "!GetAtt AccountsDLQ.Arn"),
            ("[dynamodb:GetItem, dynamodb:Query, dynamodb:Scan, dynamodb:DescribeTable]", "!GetAtt EventsTable.Arn"),
            (
                "[dynamodb:GetItem, dynamodb:BatchGetItem, dynamodb:Query, dynamodb:Scan, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:ConditionCheckItem, dynamodb:BatchWriteItem]",
                "!GetAtt AccountsTable.Arn"
            ),
        ],
        "its logs, its dead-letter queue, the log read-only (scanned by replays) and its own read table"
    );
}
