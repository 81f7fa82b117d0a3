//! One domain's block of template.yaml, rendered from its declaration and its `deploy.toml`: the
//! resources (read table, queue, DLQ, subscription, queue policy, and per role a function, its
//! written-out least-privilege role and its log group; for the domain that takes uploads, the
//! media bucket, its uploads queue and the function that deals with them) and the outputs.

use super::manifest::{DeployManifest, RoleManifest, Setting, Statement, Variable};
use super::TemplateError;
use huddle_domain::{granted_read_table_variable, Access, Domain, DomainRoute, Role};
use serde_json::Value;
use std::fmt::Write;
use std::time::Duration;

/// What the block takes from the hand-written part of the template.
pub struct Platform {
    /// The Globals' function timeout, which the queue's visibility timeout follows.
    pub default_timeout: u32,
    /// The logical id of the media bucket (of the domain that takes uploads), if any domain does.
    pub media_bucket: Option<String>,
}

/// The logical id of the media bucket `domain` owns when it takes uploads.
pub fn bucket_id(domain: &str) -> String {
    format!("{}Bucket", Names::of(domain).pascal)
}

/// What a role that reads a read table may do there: get an item or a batch of them, query.
const READ_TABLE: [&str; 3] = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"];

/// Each upload is processed alone: a 99 MB video takes the function's whole memory and time.
const UPLOADS_BATCH_SIZE: u32 = 1;

/// The projector's SQS event source: ten messages a batch (SQS's most without a batching
/// window), at most five concurrent invocations per domain so that a backlog cannot take the
/// account's whole concurrency.
const QUEUE_BATCH_SIZE: u32 = 10;
const QUEUE_MAXIMUM_CONCURRENCY: u32 = 5;

/// An operator's retry catches up every parked stream and redrives the whole DLQ: Lambda's most.
const OPERATOR_TIMEOUT: u32 = 900;

/// The domain's resources, from its opening marker to its closing one.
pub fn resources(
    domain: &dyn Domain,
    manifest: &DeployManifest,
    platform: &Platform,
) -> Result<String, TemplateError> {
    let names = Names::of(domain.name());
    let mut out = Yaml::default();
    out.line(1, &super::opening_marker(domain.name()));
    out.rule(1, '=');
    out.comment(
        1,
        &format!(
            "The {name} domain: a read table, a queue with its DLQ subscribed to the event types the\n\
         projector consumes, and one function per role built from the domain's one binary\n\
         (HUDDLE_ROLE picks the role), each with its own written-out role.",
            name = names.domain
        ),
    );
    if let Some(comment) = &manifest.comment {
        out.comment(1, comment);
    }
    out.rule(1, '=');
    read_table(&mut out, &names);
    queues(&mut out, &names, manifest, platform);
    subscription(&mut out, &names, domain)?;
    if let Some(prefix) = domain.upload_prefix() {
        media_bucket(&mut out, &names, prefix);
        uploads_queues(&mut out, &names, manifest, platform);
    }
    let bucket = match (domain.uses_blobs(), &platform.media_bucket) {
        (false, _) => None,
        (true, Some(bucket)) => Some(bucket.as_str()),
        (true, None) => {
            return Err(TemplateError::Declaration(format!(
                "{} uses the media bucket, and no registered domain takes uploads (upload_prefix)",
                names.domain
            )))
        }
    };
    let routes = domain.routes();
    let roles = FunctionRole::ALL
        .into_iter()
        .filter(|role| *role != FunctionRole::Uploads || domain.upload_prefix().is_some());
    for role in roles {
        let reads = match role {
            FunctionRole::Command => domain.reads(Role::Command),
            FunctionRole::Query => domain.reads(Role::Query),
            FunctionRole::Projector | FunctionRole::Operator | FunctionRole::Uploads => &[],
        };
        function(&mut out, &names, role, role.manifest(manifest), &routes, reads, bucket)?;
    }
    out.line(1, &super::closing_marker(domain.name()));
    Ok(out.text)
}

/// The domain's outputs, from its opening marker to its closing one.
pub fn outputs(domain: &dyn Domain) -> String {
    let names = Names::of(domain.name());
    let mut out = Yaml::default();
    out.line(1, &super::opening_marker(domain.name()));
    let pascal = &names.pascal;
    out.line(1, &format!("{pascal}TableName:"));
    out.line(2, &format!("Description: The {} read table", names.domain));
    out.line(2, &format!("Value: !Ref {pascal}Table"));
    out.line(1, &format!("{pascal}DeadLetterQueueUrl:"));
    out.line(2, &format!("Description: Events the {} projector gave up on", names.domain));
    out.line(2, &format!("Value: !Ref {pascal}DLQ"));
    if domain.upload_prefix().is_some() {
        out.line(1, &format!("{pascal}BucketName:"));
        out.line(2, "Description: The media bucket (uploads, and what processing made of them)");
        out.line(2, &format!("Value: !Ref {pascal}Bucket"));
        out.line(1, &format!("{pascal}UploadsDeadLetterQueueUrl:"));
        out.line(2, "Description: Upload notifications the uploads function gave up on");
        out.line(2, &format!("Value: !Ref {pascal}UploadsDLQ"));
    }
    out.line(1, &super::closing_marker(domain.name()));
    out.text
}

/// A domain's names: `accounts` (its folder, binary and policy names), `Accounts` (its
/// resources' logical ids).
struct Names {
    domain: String,
    pascal: String,
}

impl Names {
    fn of(domain: &str) -> Self {
        let pascal = domain
            .split(['-', '_'])
            .map(|word| {
                let mut letters = word.chars();
                letters
                    .next()
                    .map(|first| first.to_ascii_uppercase().to_string() + letters.as_str())
                    .unwrap_or_default()
            })
            .collect();
        Self { domain: domain.to_owned(), pascal }
    }
}

/// The logical id of `domain`'s function in the role titled `role` (`Command`, `Query`,
/// `Projector`, `Operator`), less its `Function` suffix.
fn function_name(names: &Names, role: &str) -> String {
    format!("{}{role}", names.pascal)
}

/// The logical id of `domain`'s function in the role titled `role`: `AccountsCommandFunction`.
pub fn function_id(domain: &str, role: &str) -> String {
    format!("{}Function", function_name(&Names::of(domain), role))
}

fn read_table(out: &mut Yaml, names: &Names) {
    out.line(1, &format!("{}Table:", names.pascal));
    out.lines(
        2,
        "Type: AWS::DynamoDB::Table\n\
         Properties:\n\
         \x20 BillingMode: PAY_PER_REQUEST\n\
         \x20 AttributeDefinitions:\n\
         \x20   - { AttributeName: pk, AttributeType: S }\n\
         \x20   - { AttributeName: sk, AttributeType: S }\n\
         \x20 KeySchema:\n\
         \x20   - { AttributeName: pk, KeyType: HASH }\n\
         \x20   - { AttributeName: sk, KeyType: RANGE }\n\
         \x20 PointInTimeRecoverySpecification:\n\
         \x20   PointInTimeRecoveryEnabled: true\n\
         \x20 SSESpecification:\n\
         \x20   SSEEnabled: true",
    );
}

fn queues(out: &mut Yaml, names: &Names, manifest: &DeployManifest, platform: &Platform) {
    let projector_timeout =
        manifest.projector.timeout.as_ref().map_or(platform.default_timeout, |timeout| timeout.value);
    queue_with_dead_letters(
        out,
        &format!("{}Queue", names.pascal),
        &format!("{}DLQ", names.pascal),
        "At least 6x the projector's timeout, as Lambda advises for SQS event sources, so a\n\
         batch still being processed is not handed to a second invocation.",
        6 * projector_timeout,
        Some(
            "A stream still failing on a message's last receive is parked by the projector (which\n\
             gets the same MaxReceives), so the DLQ holds only what the projector could not even\n\
             park; the rest of a batch still lands because the projector reports only failed ids.",
        ),
    );
}

/// Queue `queue`, hiding a received message for `visibility` seconds (`why`), and its DLQ
/// `dead_letters`, which takes what failed `MaxReceives` times (`redrive`, if said).
fn queue_with_dead_letters(
    out: &mut Yaml,
    queue: &str,
    dead_letters: &str,
    why: &str,
    visibility: u32,
    redrive: Option<&str>,
) {
    out.blank();
    out.line(1, &format!("{queue}:"));
    out.line(2, "Type: AWS::SQS::Queue");
    out.line(2, "Properties:");
    out.comment(3, why);
    out.line(3, &format!("VisibilityTimeout: {visibility}"));
    out.line(3, "SqsManagedSseEnabled: true");
    if let Some(redrive) = redrive {
        out.comment(3, redrive);
    }
    out.line(3, "RedrivePolicy:");
    out.line(4, &format!("deadLetterTargetArn: !GetAtt {dead_letters}.Arn"));
    out.line(4, "maxReceiveCount: !Ref MaxReceives");
    out.blank();
    out.line(1, &format!("{dead_letters}:"));
    out.line(2, "Type: AWS::SQS::Queue");
    out.line(2, "Properties:");
    out.line(3, "MessageRetentionPeriod: 1209600 # 14 days, the maximum");
    out.line(3, "SqsManagedSseEnabled: true");
}

/// The policy `{queue}Policy` letting `service` (`sns`, `s3`) send to `queue`, under `condition`
/// (YAML at the statement's level, explained by `why` if said).
fn queue_policy(out: &mut Yaml, queue: &str, sid: &str, service: &str, why: Option<&str>, condition: &str) {
    out.blank();
    out.line(1, &format!("{queue}Policy:"));
    out.line(2, "Type: AWS::SQS::QueuePolicy");
    out.line(2, "Properties:");
    out.line(3, &format!("Queues: [!Ref {queue}]"));
    out.line(3, "PolicyDocument:");
    out.line(4, "Version: \"2012-10-17\"");
    out.line(4, "Statement:");
    out.line(5, &format!("- Sid: {sid}"));
    if let Some(why) = why {
        out.comment(6, why);
    }
    out.lines(
        6,
        &format!(
            "Effect: Allow\n\
             Principal: {{ Service: {service}.amazonaws.com }}\n\
             Action: sqs:SendMessage\n\
             Resource: !GetAtt {queue}.Arn\n\
             Condition:"
        ),
    );
    out.lines(7, condition);
}

/// The media bucket's name, fixed so that the policy of the queue it announces on (which the
/// bucket depends on) can name it: the stack's, the account's and the region's, unique in S3.
fn bucket_name(names: &Names) -> String {
    format!("${{AWS::StackName}}-{}-${{AWS::AccountId}}-${{AWS::Region}}", names.domain)
}

/// The media bucket: private, encrypted, TLS only, uploads under `prefix` announced on the
/// uploads queue, read by the uploads function alone and expired after a day (processing
/// deletes each one it dealt with; what is left was never completed or never processed).
fn media_bucket(out: &mut Yaml, names: &Names, prefix: &str) {
    let pascal = &names.pascal;
    let name = bucket_name(names);
    out.blank();
    out.comment(
        1,
        &format!(
            "The media bucket. Apps PUT under {prefix} through presigned URLs (content type and length\n\
             signed); S3 announces each object on {pascal}UploadsQueue, and what processing makes of\n\
             it is written elsewhere in the bucket, so processing never announces its own outputs.\n\
             Nothing is public: apps read through presigned GETs."
        ),
    );
    out.line(1, &format!("{pascal}Bucket:"));
    out.line(2, "Type: AWS::S3::Bucket");
    out.comment(2, "S3 checks that it may send to the queue when the notification is set.");
    out.line(2, &format!("DependsOn: {pascal}UploadsQueuePolicy"));
    out.line(2, "Properties:");
    out.comment(3, "Stack names are lower case: S3 takes no other bucket names.");
    out.line(3, &format!("BucketName: !Sub \"{name}\""));
    out.lines(
        3,
        &format!(
            "BucketEncryption:\n\
             \x20 ServerSideEncryptionConfiguration:\n\
             \x20   - ServerSideEncryptionByDefault: {{ SSEAlgorithm: AES256 }}\n\
             PublicAccessBlockConfiguration:\n\
             \x20 BlockPublicAcls: true\n\
             \x20 BlockPublicPolicy: true\n\
             \x20 IgnorePublicAcls: true\n\
             \x20 RestrictPublicBuckets: true\n\
             OwnershipControls:\n\
             \x20 Rules:\n\
             \x20   - ObjectOwnership: BucketOwnerEnforced\n\
             CorsConfiguration:\n\
             \x20 CorsRules:\n\
             \x20   - AllowedMethods: [PUT, GET]\n\
             \x20     AllowedOrigins: !Ref AllowedOrigins\n\
             \x20     AllowedHeaders: [Content-Type, If-None-Match]\n\
             \x20     MaxAge: 600\n\
             LifecycleConfiguration:\n\
             \x20 Rules:\n\
             \x20   - Id: ExpireUploadsLeftBehind\n\
             \x20     Status: Enabled\n\
             \x20     Prefix: {prefix}\n\
             \x20     ExpirationInDays: 1\n\
             \x20   - Id: AbortIncompleteMultipartUploads\n\
             \x20     Status: Enabled\n\
             \x20     AbortIncompleteMultipartUpload: {{ DaysAfterInitiation: 1 }}\n\
             NotificationConfiguration:\n\
             \x20 QueueConfigurations:\n\
             \x20   - Event: s3:ObjectCreated:*\n\
             \x20     Queue: !GetAtt {pascal}UploadsQueue.Arn\n\
             \x20     Filter:\n\
             \x20       S3Key:\n\
             \x20         Rules:\n\
             \x20           - {{ Name: prefix, Value: {prefix} }}"
        ),
    );
    out.blank();
    out.line(1, &format!("{pascal}BucketPolicy:"));
    out.line(2, "Type: AWS::S3::BucketPolicy");
    out.line(2, "Properties:");
    out.line(3, &format!("Bucket: !Ref {pascal}Bucket"));
    out.line(3, "PolicyDocument:");
    out.line(4, "Version: \"2012-10-17\"");
    out.line(4, "Statement:");
    out.lines(
        5,
        &format!(
            "- Sid: TlsOnly\n\
             \x20 Effect: Deny\n\
             \x20 Principal: \"*\"\n\
             \x20 Action: \"s3:*\"\n\
             \x20 Resource: [!GetAtt {pascal}Bucket.Arn, !Sub \"${{{pascal}Bucket.Arn}}/*\"]\n\
             \x20 Condition: {{ Bool: {{ aws:SecureTransport: \"false\" }} }}"
        ),
    );
    out.comment(
        5,
        "An upload still holds what processing strips (a photo's GPS position): no one reads it but\n\
         the function that processes it, whatever else their policies allow.",
    );
    out.lines(
        5,
        &format!(
            "- Sid: UploadsReadOnlyByTheirProcessing\n\
             \x20 Effect: Deny\n\
             \x20 Principal: \"*\"\n\
             \x20 Action: s3:GetObject\n\
             \x20 Resource: !Sub \"${{{pascal}Bucket.Arn}}/{prefix}*\"\n\
             \x20 Condition:\n\
             \x20   ArnNotEquals:\n\
             \x20     aws:PrincipalArn: !GetAtt {function}Role.Arn",
            function = function_name(names, FunctionRole::Uploads.title())
        ),
    );
}

/// The queue S3 announces uploads on, its DLQ and the policy that lets S3 (of this account
/// only) send to it.
fn uploads_queues(out: &mut Yaml, names: &Names, manifest: &DeployManifest, platform: &Platform) {
    let pascal = &names.pascal;
    let timeout = manifest.uploads.timeout.as_ref().map_or(platform.default_timeout, |timeout| timeout.value);
    let queue = format!("{pascal}UploadsQueue");
    queue_with_dead_letters(
        out,
        &queue,
        &format!("{pascal}UploadsDLQ"),
        "At least 6x the uploads function's timeout, as Lambda advises for SQS event sources.",
        6 * timeout,
        None,
    );
    queue_policy(
        out,
        &queue,
        "MediaBucketAnnounces",
        "s3",
        Some(
            "The bucket depends on this policy, so the policy names the bucket by its fixed name\n\
             rather than by a reference.",
        ),
        &format!(
            "StringEquals:\n\
             \x20 aws:SourceAccount: !Ref AWS::AccountId\n\
             ArnEquals:\n\
             \x20 aws:SourceArn: !Sub \"arn:${{AWS::Partition}}:s3:::{}\"",
            bucket_name(names)
        ),
    );
}

fn subscription(out: &mut Yaml, names: &Names, domain: &dyn Domain) -> Result<(), TemplateError> {
    let pascal = &names.pascal;
    let policy: Value = serde_json::from_str(&domain.consumes().to_json())
        .map_err(|error| TemplateError::Declaration(format!("{}: consumes(): {error}", names.domain)))?;
    out.blank();
    out.line(1, &format!("{pascal}Subscription:"));
    out.line(2, "Type: AWS::SNS::Subscription");
    out.line(2, "Properties:");
    out.line(3, "TopicArn: !Ref EventsTopic");
    out.line(3, "Protocol: sqs");
    out.line(3, &format!("Endpoint: !GetAtt {pascal}Queue.Arn"));
    out.comment(3, "The body is the envelope JSON itself, not SNS's notification wrapper.");
    out.line(3, "RawMessageDelivery: true");
    out.line(3, "FilterPolicyScope: MessageAttributes");
    out.comment(
        3,
        "The domain's consumes(), as one line of JSON (which YAML reads as it is): its stream types\n\
         and event types together, since another domain may reuse these event names.",
    );
    out.line(3, &format!("FilterPolicy: {}", one_line_json(&policy)));
    queue_policy(
        out,
        &format!("{pascal}Queue"),
        "EventsTopicDelivers",
        "sns",
        None,
        "ArnEquals:\n\
         \x20 aws:SourceArn: !Ref EventsTopic",
    );
    Ok(())
}

/// JSON on one line with a space after each `,` and `:`, as a person would write it.
fn one_line_json(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            format!("[{}]", items.iter().map(one_line_json).collect::<Vec<_>>().join(", "))
        }
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(name, field)| format!("{}: {}", Value::from(name.as_str()), one_line_json(field)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        scalar => scalar.to_string(),
    }
}

/// The four functions of a domain, in the order the template lists them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FunctionRole {
    Command,
    Query,
    Projector,
    Operator,
    /// Only for a domain that takes uploads.
    Uploads,
}

impl FunctionRole {
    const ALL: [Self; 5] = [Self::Command, Self::Query, Self::Projector, Self::Operator, Self::Uploads];

    /// `HUDDLE_ROLE`'s value, and the suffix of the IAM policy's name.
    fn id(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Query => "query",
            Self::Projector => "projector",
            Self::Operator => "operator",
            Self::Uploads => "uploads",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Command => "Command",
            Self::Query => "Query",
            Self::Projector => "Projector",
            Self::Operator => "Operator",
            Self::Uploads => "Uploads",
        }
    }

    fn manifest(self, manifest: &DeployManifest) -> &RoleManifest {
        match self {
            Self::Command => &manifest.command,
            Self::Query => &manifest.query,
            Self::Projector => &manifest.projector,
            Self::Operator => &manifest.operator,
            Self::Uploads => &manifest.uploads,
        }
    }

    /// The declared routes this role serves.
    fn serves(self, route: &DomainRoute) -> bool {
        match self {
            Self::Command => route.role == Role::Command,
            Self::Query => route.role == Role::Query,
            Self::Projector | Self::Operator | Self::Uploads => false,
        }
    }

    /// The function's comment before the manifest's lines.
    fn comment(self, pascal: &str) -> String {
        match self {
            Self::Command => "Command: the domain's routes that change state.".to_owned(),
            Self::Query => "Query: the domain's routes that read.".to_owned(),
            Self::Projector => format!(
                "Projector: {pascal}Queue -> {pascal}Table, version-gated. It reads the event log to heal\n\
                 gaps; it writes the log only where its statements below say."
            ),
            Self::Operator => format!(
                "Operator: invoked by hand (`aws lambda invoke --payload '{{\"operation\": \"dead-letters\"}}'`,\n\
                 or \"retry\", or {{\"operation\": \"skip\", \"stream\", \"version\", \"reason\"}}), never by a trigger.\n\
                 It lists, unparks and skips parked streams in {pascal}Table, reading the log to catch them\n\
                 up, and redrives {pascal}DLQ."
            ),
            Self::Uploads => format!(
                "Uploads: {pascal}UploadsQueue's notifications of objects created under the upload prefix,\n\
                 one at a time; what it may do with them is its statements below."
            ),
        }
    }

    fn description(self, pascal: &str) -> String {
        match self {
            Self::Command => format!("{pascal} commands -> EventsTable"),
            Self::Query => format!("{pascal} queries <- {pascal}Table"),
            Self::Projector => format!("{pascal}Queue -> {pascal}Table"),
            Self::Operator => format!("Parked streams and {pascal}DLQ -> {pascal}Table, by hand"),
            Self::Uploads => format!("{pascal}UploadsQueue -> {pascal}Bucket and EventsTable"),
        }
    }

    /// The environment `huddle_lambda` reads for this role (see shared/lambda).
    fn environment(self, pascal: &str) -> Vec<(&'static str, String)> {
        let mut variables = vec![
            ("HUDDLE_ROLE", self.id().to_owned()),
            ("EVENTS_TABLE", "!Ref EventsTable".to_owned()),
            ("READ_TABLE", format!("!Ref {pascal}Table")),
        ];
        match self {
            // The roles that answer HTTP requests seal cursors (queries) and consistency tokens
            // (both).
            Self::Command | Self::Query => {
                variables.push(("CURSOR_SECRET", secret_reference("CursorSecret")))
            }
            Self::Projector | Self::Uploads => {
                variables.push(("MAX_RECEIVES", "!Ref MaxReceives".to_owned()))
            }
            Self::Operator => {
                variables.push(("DEAD_LETTER_QUEUE_URL", format!("!Ref {pascal}DLQ")));
                variables.push(("DEAD_LETTER_QUEUE_ARN", format!("!GetAtt {pascal}DLQ.Arn")));
            }
        }
        variables
    }

    /// What every domain's function of this role may do besides writing its own logs.
    fn statements(self, pascal: &str) -> Vec<Statement> {
        let statement = |sid: &str, actions: &[&str], resource: String| Statement {
            sid: sid.to_owned(),
            actions: actions.iter().map(|action| (*action).to_owned()).collect(),
            resource,
            objects: None,
            leading_keys: Vec::new(),
            comment: None,
        };
        let events_table = || "!GetAtt EventsTable.Arn".to_owned();
        let read_table = || format!("!GetAtt {pascal}Table.Arn");
        // BatchWriteItem: a projection's fan-out writes (any number) go in batches of 25.
        const READ_MODEL_WRITES: [&str; 5] = [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:ConditionCheckItem",
            "dynamodb:BatchWriteItem",
        ];
        // BatchGetItem: a page reads its items' records in batches (`huddle_ports::get_all`).
        let reads = |more: &[&'static str]| [&READ_TABLE[..], more].concat();
        match self {
            // What a command may touch of the log is the domain's own: its manifest says.
            Self::Command => Vec::new(),
            Self::Query => {
                vec![statement("ReadOwnReadModel", &READ_TABLE, read_table())]
            }
            Self::Projector => vec![
                statement(
                    "ConsumeOwnQueue",
                    &[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:ChangeMessageVisibility",
                    ],
                    format!("!GetAtt {pascal}Queue.Arn"),
                ),
                statement("ReadEvents", &["dynamodb:GetItem", "dynamodb:Query"], events_table()),
                statement("WriteOwnReadModel", &reads(&READ_MODEL_WRITES), read_table()),
            ],
            Self::Operator => vec![
                statement(
                    "RedriveOwnDeadLetters",
                    &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
                    format!("!GetAtt {pascal}DLQ.Arn"),
                ),
                // Replays scan the log in parallel segments, sized by the table's item count.
                statement(
                    "ReadEvents",
                    &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable"],
                    events_table(),
                ),
                statement(
                    "WriteOwnReadModel",
                    &reads(&[&["dynamodb:Scan"][..], &READ_MODEL_WRITES].concat()),
                    read_table(),
                ),
            ],
            // What it may read and write of the bucket and the log is the domain's: its manifest.
            Self::Uploads => vec![statement(
                "ConsumeOwnUploadsQueue",
                &[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ChangeMessageVisibility",
                ],
                format!("!GetAtt {pascal}UploadsQueue.Arn"),
            )],
        }
    }

    fn default_timeout(self) -> Option<Setting> {
        (self == Self::Operator).then(|| Setting {
            value: OPERATOR_TIMEOUT,
            why: "A retry catches up every parked stream and redrives the whole DLQ.".to_owned(),
        })
    }
}

fn secret_reference(secret: &str) -> String {
    format!(r#"!Join ["", ["{{{{resolve:secretsmanager:", !Ref {secret}, ":SecretString}}}}"]]"#)
}

fn function(
    out: &mut Yaml,
    names: &Names,
    role: FunctionRole,
    manifest: &RoleManifest,
    routes: &[DomainRoute],
    reads: &[&str],
    bucket: Option<&str>,
) -> Result<(), TemplateError> {
    let pascal = &names.pascal;
    // The other domains' read tables this role reads.
    let granted: Vec<Names> = reads.iter().map(|domain| Names::of(domain)).collect();
    let function = function_name(names, role.title());
    out.blank();
    out.comment(1, &role.comment(pascal));
    if let Some(comment) = &manifest.comment {
        out.comment(1, comment);
    }
    out.line(1, &format!("{function}Function:"));
    out.line(2, "Type: AWS::Serverless::Function");
    out.line(2, "Metadata:");
    out.line(3, "BuildMethod: rust-cargolambda");
    out.line(3, "BuildProperties:");
    out.line(4, &format!("Binary: {}", names.domain));
    out.line(2, "Properties:");
    out.line(3, &format!("Description: {}", role.description(pascal)));
    out.line(3, "CodeUri: .");
    if let Some(memory) = &manifest.memory {
        out.comment(3, &memory.why);
        out.line(3, &format!("MemorySize: {}", memory.value));
    }
    if let Some(timeout) = manifest.timeout.clone().or_else(|| role.default_timeout()) {
        out.comment(3, &timeout.why);
        out.line(3, &format!("Timeout: {}", timeout.value));
    }
    out.line(3, &format!("Role: !GetAtt {function}Role.Arn"));
    out.line(3, "LoggingConfig:");
    out.line(4, &format!("LogGroup: !Ref {function}LogGroup"));
    out.line(3, "Environment:");
    out.line(4, "Variables:");
    for (name, value) in role.environment(pascal) {
        out.line(5, &format!("{name}: {value}"));
    }
    for other in &granted {
        out.line(5, &format!("{}: !Ref {}Table", granted_read_table_variable(&other.domain), other.pascal));
    }
    if let Some(bucket) = bucket {
        out.line(5, &format!("MEDIA_BUCKET: !Ref {bucket}"));
    }
    for variable in &manifest.environment {
        if let Some(comment) = &variable.comment {
            out.comment(5, comment);
        }
        out.line(5, &format!("{}: {}", variable.name, variable_value(names, variable)?));
    }
    events(out, names, role, routes);
    role_resource(out, names, role, &function, manifest, &granted, bucket)?;
    out.blank();
    out.line(1, &format!("{function}LogGroup:"));
    out.line(2, "Type: AWS::Logs::LogGroup");
    out.line(2, "Properties:");
    out.line(3, "RetentionInDays: !Ref LogRetentionDays");
    Ok(())
}

fn variable_value(names: &Names, variable: &Variable) -> Result<String, TemplateError> {
    match (&variable.value, &variable.secret) {
        (Some(value), None) => Ok(value.clone()),
        (None, Some(secret)) => Ok(secret_reference(secret)),
        _ => Err(TemplateError::Manifest(format!(
            "domains/{}/deploy.toml: {} needs either `value` or `secret`",
            names.domain, variable.name
        ))),
    }
}

fn events(out: &mut Yaml, names: &Names, role: FunctionRole, routes: &[DomainRoute]) {
    let pascal = &names.pascal;
    match role {
        FunctionRole::Command | FunctionRole::Query => {
            let served: Vec<&DomainRoute> = routes.iter().filter(|route| role.serves(route)).collect();
            if served.is_empty() {
                return;
            }
            out.line(3, "Events:");
            for route in served {
                out.line(4, &format!("{}:", route.operation));
                out.line(5, "Type: HttpApi");
                out.line(5, "Properties:");
                out.line(6, "ApiId: !Ref HttpApi");
                out.line(6, &format!("Method: {}", route.method));
                out.line(6, &format!("Path: {}", route.path));
                if route.access == Access::Public {
                    out.line(6, "Auth:");
                    out.line(7, "Authorizer: NONE");
                }
            }
        }
        FunctionRole::Projector => {
            out.line(3, "Events:");
            sqs_event(out, "DomainQueue", &format!("{pascal}Queue"), QUEUE_BATCH_SIZE);
            out.comment(
                4,
                "The sweeper: heals streams whose last event never reached the queue (SWEEP_INTERVAL).",
            );
            out.line(4, "Sweep:");
            out.line(5, "Type: Schedule");
            out.line(5, "Properties:");
            out.line(6, &format!("Schedule: {}", schedule(huddle_delivery::SWEEP_INTERVAL)));
        }
        FunctionRole::Uploads => {
            out.line(3, "Events:");
            sqs_event(out, "Uploads", &format!("{pascal}UploadsQueue"), UPLOADS_BATCH_SIZE);
        }
        FunctionRole::Operator => {}
    }
}

/// The event `name` that feeds a function from `queue`, `batch_size` messages at a time, failed
/// ones reported one by one, at most [`QUEUE_MAXIMUM_CONCURRENCY`] invocations at once.
fn sqs_event(out: &mut Yaml, name: &str, queue: &str, batch_size: u32) {
    out.line(4, &format!("{name}:"));
    out.line(5, "Type: SQS");
    out.line(5, "Properties:");
    out.line(6, &format!("Queue: !GetAtt {queue}.Arn"));
    out.line(6, &format!("BatchSize: {batch_size}"));
    out.line(6, "FunctionResponseTypes: [ReportBatchItemFailures]");
    out.line(6, "ScalingConfig:");
    out.line(7, &format!("MaximumConcurrency: {QUEUE_MAXIMUM_CONCURRENCY}"));
}

/// An EventBridge rate expression for `interval`, in whole minutes.
fn schedule(interval: Duration) -> String {
    match interval.as_secs() / 60 {
        1 => "rate(1 minute)".to_owned(),
        minutes => format!("rate({minutes} minutes)"),
    }
}

fn role_resource(
    out: &mut Yaml,
    names: &Names,
    role: FunctionRole,
    function: &str,
    manifest: &RoleManifest,
    granted: &[Names],
    bucket: Option<&str>,
) -> Result<(), TemplateError> {
    out.blank();
    out.line(1, &format!("{function}Role:"));
    out.lines(
        2,
        "Type: AWS::IAM::Role\n\
         Properties:\n\
         \x20 AssumeRolePolicyDocument:\n\
         \x20   Version: \"2012-10-17\"\n\
         \x20   Statement:\n\
         \x20     - Effect: Allow\n\
         \x20       Principal: { Service: lambda.amazonaws.com }\n\
         \x20       Action: sts:AssumeRole\n\
         \x20 Policies:",
    );
    out.line(4, &format!("- PolicyName: {}-{}", names.domain, role.id()));
    out.line(5, "PolicyDocument:");
    out.line(6, "Version: \"2012-10-17\"");
    out.line(6, "Statement:");
    let own_logs = Statement {
        sid: "WriteOwnLogs".to_owned(),
        actions: vec!["logs:CreateLogStream".to_owned(), "logs:PutLogEvents".to_owned()],
        resource: format!("!GetAtt {function}LogGroup.Arn"),
        objects: None,
        leading_keys: Vec::new(),
        comment: None,
    };
    let generic = role.statements(&names.pascal);
    let reads_granted = granted.iter().map(|other| Statement {
        sid: format!("Read{}ReadModel", other.pascal),
        actions: READ_TABLE.iter().map(|action| action.to_string()).collect(),
        resource: format!("!GetAtt {}Table.Arn", other.pascal),
        objects: None,
        leading_keys: Vec::new(),
        comment: Some(format!("Reads only, through the port the {} domain publishes.", other.domain)),
    });
    let reads_granted: Vec<Statement> = reads_granted.collect();
    for statement in
        std::iter::once(&own_logs).chain(&generic).chain(&reads_granted).chain(&manifest.statements)
    {
        if let Some(comment) = &statement.comment {
            out.comment(7, comment);
        }
        out.line(7, &format!("- Sid: {}", statement.sid));
        out.line(8, "Effect: Allow");
        let actions = match statement.actions.as_slice() {
            [action] => action.clone(),
            actions => format!("[{}]", actions.join(", ")),
        };
        out.line(8, &format!("Action: {actions}"));
        out.line(8, &format!("Resource: {}", resource(statement, names, bucket)?));
        if !statement.leading_keys.is_empty() {
            let keys: Vec<String> =
                statement.leading_keys.iter().map(|key| Value::from(key.as_str()).to_string()).collect();
            out.line(8, "Condition:");
            out.line(9, "ForAllValues:StringLike:");
            out.line(10, &format!("dynamodb:LeadingKeys: [{}]", keys.join(", ")));
        }
    }
    Ok(())
}

/// A statement's resource: as written, or the media bucket's objects under its prefix.
fn resource(statement: &Statement, names: &Names, bucket: Option<&str>) -> Result<String, TemplateError> {
    match (&statement.objects, bucket) {
        (None, _) => Ok(statement.resource.clone()),
        (Some(prefix), Some(bucket)) => Ok(format!("!Sub \"${{{bucket}.Arn}}/{prefix}*\"")),
        (Some(_), None) => Err(TemplateError::Declaration(format!(
            "{}: statement {} names the bucket's objects, and the domain does not use the bucket (uses_blobs)",
            names.domain, statement.sid
        ))),
    }
}

/// YAML text, two spaces an indentation level.
#[derive(Default)]
struct Yaml {
    text: String,
}

impl Yaml {
    fn line(&mut self, level: usize, text: &str) {
        let _ = writeln!(self.text, "{:indent$}{text}", "", indent = 2 * level);
    }

    /// Each line of `text` at `level`, keeping the indentation it has.
    fn lines(&mut self, level: usize, text: &str) {
        for line in text.lines() {
            self.line(level, line);
        }
    }

    fn comment(&mut self, level: usize, text: &str) {
        for line in text.trim_end().lines() {
            match line.trim_end() {
                "" => self.line(level, "#"),
                line => self.line(level, &format!("# {line}")),
            }
        }
    }

    /// A full-width line of `character`, as the platform part's section headings are drawn.
    fn rule(&mut self, level: usize, character: char) {
        const WIDTH: usize = 97;
        self.line(level, &format!("# {}", character.to_string().repeat(WIDTH - 2 * level - 2)));
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_a_hyphenated_domain_are_pascal_case() {
        assert_eq!(Names::of("accounts").pascal, "Accounts");
        assert_eq!(Names::of("direct-messages").pascal, "DirectMessages");
    }

    #[test]
    fn filter_policies_are_written_as_a_person_would() {
        let policy = serde_json::json!({"event_type": ["A", "B"], "stream_type": [{"prefix": "x"}]});
        assert_eq!(one_line_json(&policy), r#"{"event_type": ["A", "B"], "stream_type": [{"prefix": "x"}]}"#);
    }

    /// A domain with no routes that takes uploads and uses the bucket, for rendering only.
    struct TakesUploads;

    struct ProjectsNothing;

    #[async_trait::async_trait]
    impl huddle_delivery::Projection for ProjectsNothing {
        async fn project(
            &self,
            _event: &huddle_eventstore::Envelope,
            _read_model: &dyn huddle_ports::Table,
        ) -> Result<huddle_delivery::Projected, huddle_delivery::ProjectionError> {
            Ok(huddle_delivery::Projected::nothing())
        }
    }

    impl Domain for TakesUploads {
        fn name(&self) -> &'static str {
            "media"
        }
        fn routes(&self) -> Vec<DomainRoute> {
            Vec::new()
        }
        fn consumes(&self) -> huddle_ports::FilterPolicy {
            huddle_ports::FilterPolicy::attribute_in("event_type", &["MediaRequested"])
        }
        fn command(
            &self,
            _ports: &huddle_domain::DomainPorts,
        ) -> std::sync::Arc<dyn huddle_http::HttpFunction> {
            std::sync::Arc::new(huddle_http::NotFound)
        }
        fn query(
            &self,
            _ports: &huddle_domain::DomainPorts,
        ) -> std::sync::Arc<dyn huddle_http::HttpFunction> {
            std::sync::Arc::new(huddle_http::NotFound)
        }
        fn projection(
            &self,
            _ports: &huddle_domain::DomainPorts,
        ) -> std::sync::Arc<dyn huddle_delivery::Projection> {
            std::sync::Arc::new(ProjectsNothing)
        }
        fn uses_blobs(&self) -> bool {
            true
        }
        fn upload_prefix(&self) -> Option<&'static str> {
            Some("uploads/")
        }
    }

    #[test]
    fn the_domain_taking_uploads_owns_the_bucket_its_queue_and_the_uploads_function() {
        let platform = Platform { default_timeout: 30, media_bucket: Some(bucket_id("media")) };
        let block = resources(&TakesUploads, &DeployManifest::default(), &platform).unwrap();
        for expected in [
            "  MediaBucket:\n    Type: AWS::S3::Bucket\n",
            "    DependsOn: MediaUploadsQueuePolicy\n",
            "            Queue: !GetAtt MediaUploadsQueue.Arn\n",
            "                  - { Name: prefix, Value: uploads/ }\n",
            "            Prefix: uploads/\n",
            "  MediaUploadsFunction:\n",
            "          HUDDLE_ROLE: uploads\n",
            "          MEDIA_BUCKET: !Ref MediaBucket\n",
            "            Queue: !GetAtt MediaUploadsQueue.Arn\n            BatchSize: 1\n",
            "              - Sid: ConsumeOwnUploadsQueue\n",
        ] {
            assert!(block.contains(expected), "missing {expected:?} in\n{block}");
        }
        // Every role of a domain that uses the bucket is told its name.
        assert_eq!(block.matches("MEDIA_BUCKET: !Ref MediaBucket").count(), 5, "{block}");

        let no_bucket = Platform { default_timeout: 30, media_bucket: None };
        let refused = resources(&TakesUploads, &DeployManifest::default(), &no_bucket);
        assert!(matches!(refused, Err(TemplateError::Declaration(_))), "a bucket user needs the bucket");
    }

    #[test]
    fn sweeps_are_scheduled_in_minutes() {
        assert_eq!(schedule(Duration::from_secs(600)), "rate(10 minutes)");
        assert_eq!(schedule(Duration::from_secs(60)), "rate(1 minute)");
    }
}
