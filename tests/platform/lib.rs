//! What the platform's test binaries share; the tests themselves live in `tests/`.

/// A function of template.yaml and the events/ fixtures it is invoked with under the Runtime
/// Interface Emulator (`tests/rie.rs`). The fixture checks (`tests/platform/fixtures.rs`) count
/// these fixtures as exercised, and fail without the emulator when one is missing or when a
/// folder of events/ the emulator runs has a fixture its invocation leaves out.
pub struct Invocation {
    /// The function's `BuildProperties.Binary` in template.yaml.
    pub binary: &'static str,
    /// Relative to the workspace root.
    pub fixtures: &'static [&'static str],
}

pub const INVOCATIONS: &[Invocation] = &[
    Invocation { binary: "fanout", fixtures: &["events/fanout/stream-insert.json"] },
    Invocation {
        binary: "accounts",
        fixtures: &[
            "events/accounts/sign-up.json",
            "events/accounts/log-in.json",
            "events/accounts/get-me.json",
            "events/accounts/get-account.json",
            "events/accounts/get-account-by-username.json",
            "events/accounts/update-me.json",
            "events/accounts/legacy-link.json",
            "events/accounts/change-password.json",
            "events/accounts/revoke-sessions.json",
            "events/accounts/erase-me.json",
            "events/accounts/scheduled-sweep.json",
            "events/accounts-operator/dead-letters.json",
            "events/accounts-operator/skip.json",
            "events/accounts-operator/retry.json",
            "events/accounts-operator/replay.json",
        ],
    },
    Invocation {
        binary: "graph",
        fixtures: &[
            "events/graph/follow.json",
            "events/graph/list-followers.json",
            "events/graph/relationships.json",
        ],
    },
    Invocation {
        binary: "media",
        fixtures: &[
            "events/media/request-upload.json",
            "events/media/upload-notification.json",
            "events/media/get-media.json",
        ],
    },
    Invocation {
        binary: "content",
        fixtures: &[
            "events/content/create-post.json",
            "events/content/get-post.json",
            "events/content/create-thread.json",
            "events/content/get-thread.json",
        ],
    },
    Invocation { binary: "authorizer", fixtures: &["events/authorizer/request.json"] },
    Invocation { binary: "not-found", fixtures: &["events/not-found/unmatched.json"] },
];
