//! The user actions `huddle cost` measures and the cost guards count, each one request of an app,
//! with how often a daily active user makes it (the stated activity mix), and a day of a small
//! network that makes every one of them. Each domain adds its actions here.

use super::{Measured, MeteredSystem};
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::json;

/// One user action: one request an app makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    SignUp,
    LogIn,
    ReadOwnProfile,
    ReadProfile,
    ReadProfileByUsername,
    EditProfile,
    ChangePassword,
    RevokeSessions,
    EraseAccount,
    Follow,
    Unfollow,
    AddToAudience,
    Mute,
    Block,
    ListFollowers,
    ReadRelationships,
    CreatePost,
    ReadPost,
    LikePost,
}

impl Action {
    pub fn title(self) -> &'static str {
        match self {
            Action::SignUp => "sign up",
            Action::LogIn => "log in",
            Action::ReadOwnProfile => "read own profile (GET /v1/me)",
            Action::ReadProfile => "read a profile",
            Action::ReadProfileByUsername => "read a profile by username",
            Action::EditProfile => "edit profile",
            Action::ChangePassword => "change password",
            Action::RevokeSessions => "log out everywhere",
            Action::EraseAccount => "erase account",
            Action::Follow => "follow",
            Action::Unfollow => "unfollow",
            Action::AddToAudience => "put someone in a tier",
            Action::Mute => "mute",
            Action::Block => "block",
            Action::ListFollowers => "list an account's followers",
            Action::ReadRelationships => "read relationships (GET /v1/me/relationships)",
            Action::CreatePost => "post",
            Action::ReadPost => "read a post",
            Action::LikePost => "like a post",
        }
    }

    /// How often a daily active user makes the action in a day: the stated activity mix. Not
    /// measured from users: a network's own analytics should replace it. One in a hundred
    /// active users is new each day; a token lasts, so an app logs in about every third day;
    /// profiles are opened far more often than edited. A user follows someone every few days and
    /// unfollows far less; an app asks for the caller's relationships whenever it shows accounts
    /// (a profile, a list); blocks and mutes are rare. Posts are read far more often than they
    /// are written, and liked in between.
    pub fn daily_per_active_user(self) -> f64 {
        match self {
            Action::SignUp => 0.01,
            Action::LogIn => 0.3,
            Action::ReadOwnProfile => 2.0,
            Action::ReadProfile => 10.0,
            Action::ReadProfileByUsername => 1.0,
            Action::EditProfile => 0.05,
            Action::ChangePassword => 0.002,
            Action::RevokeSessions => 0.001,
            Action::EraseAccount => 0.0005,
            Action::Follow => 0.3,
            Action::Unfollow => 0.05,
            Action::AddToAudience => 0.05,
            Action::Mute => 0.005,
            Action::Block => 0.005,
            Action::ListFollowers => 1.0,
            Action::ReadRelationships => 8.0,
            Action::CreatePost => 0.5,
            Action::ReadPost => 20.0,
            Action::LikePost => 3.0,
        }
    }

    /// The status the action answers when it does what it should.
    fn succeeds_with(self) -> StatusCode {
        match self {
            Action::SignUp | Action::CreatePost => StatusCode::CREATED,
            Action::ChangePassword | Action::RevokeSessions | Action::EraseAccount | Action::Unfollow => {
                StatusCode::NO_CONTENT
            }
            _ => StatusCode::OK,
        }
    }
}

/// A user of the workload.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password: String,
    pub token: String,
    /// The user's latest post, which others read and like.
    pub last_post: Option<String>,
}

/// The users a workload has signed up, and how it names the next one (names of one length, so
/// every action's items are of one size whoever makes it).
#[derive(Debug, Default)]
pub struct People {
    pub users: Vec<User>,
    signed_up: usize,
}

impl People {
    fn next_username(&mut self) -> String {
        self.signed_up += 1;
        format!("user{:06}", self.signed_up)
    }
}

/// Makes `action` as `people.users[actor]` (sign-up makes a new user; reads look at the next
/// user's profile) and measures it; an answer other than the action's success is an error, so a
/// failure is never measured as the action.
pub async fn perform(
    system: &mut MeteredSystem,
    people: &mut People,
    action: Action,
    actor: usize,
) -> Result<Measured, String> {
    let count = people.users.len();
    if action != Action::SignUp && actor >= count {
        return Err(format!("{}: there is no user {actor} among {count}", action.title()));
    }
    let client = system.client().clone();
    let user = people.users.get(actor).cloned();
    let other = |people: &People| people.users[(actor + 1) % count].clone();
    let others_post = |people: &People| {
        let other = other(people);
        other.last_post.ok_or_else(|| format!("{}: {} has not posted", action.title(), other.username))
    };
    let request = match (action, &user) {
        (Action::SignUp, _) => {
            let username = people.next_username();
            let body = json!({ "username": username, "email": format!("{username}@example.com"), "password": password_of(&username, 0) });
            client.post(system.url("/v1/accounts")).json(&body)
        }
        (_, None) => unreachable!("every other action has its actor"),
        (Action::LogIn, Some(user)) => client
            .post(system.url("/v1/sessions"))
            .json(&json!({ "login": user.username, "password": user.password })),
        (Action::ReadOwnProfile, Some(user)) => client.get(system.url("/v1/me")).bearer_auth(&user.token),
        (Action::ReadProfile, Some(user)) => {
            client.get(system.url(&format!("/v1/accounts/{}", other(people).id))).bearer_auth(&user.token)
        }
        (Action::ReadProfileByUsername, Some(user)) => client
            .get(system.url(&format!("/v1/accounts/by-username/{}", other(people).username)))
            .bearer_auth(&user.token),
        (Action::EditProfile, Some(user)) => client
            .patch(system.url("/v1/me"))
            .bearer_auth(&user.token)
            .json(&json!({ "display_name": format!("Name of {}", user.username), "bio": "Runs, reads, rides." })),
        (Action::ChangePassword, Some(user)) => client
            .post(system.url("/v1/me/password"))
            .bearer_auth(&user.token)
            .json(&json!({ "current_password": user.password, "new_password": next_password(&user.password) })),
        (Action::RevokeSessions, Some(user)) => {
            client.post(system.url("/v1/me/sessions/revoke")).bearer_auth(&user.token)
        }
        (Action::EraseAccount, Some(user)) => {
            client.delete(system.url("/v1/me")).bearer_auth(&user.token).json(&json!({ "password": user.password }))
        }
        (Action::Follow, Some(user)) => {
            client.put(system.url(&format!("/v1/me/following/{}", other(people).id))).bearer_auth(&user.token)
        }
        (Action::Unfollow, Some(user)) => {
            client.delete(system.url(&format!("/v1/me/following/{}", other(people).id))).bearer_auth(&user.token)
        }
        (Action::AddToAudience, Some(user)) => client
            .put(system.url(&format!("/v1/me/audiences/friends/{}", other(people).id)))
            .bearer_auth(&user.token),
        (Action::Mute, Some(user)) => {
            client.put(system.url(&format!("/v1/me/mutes/{}", other(people).id))).bearer_auth(&user.token)
        }
        (Action::Block, Some(user)) => {
            client.put(system.url(&format!("/v1/me/blocks/{}", other(people).id))).bearer_auth(&user.token)
        }
        (Action::ListFollowers, Some(user)) => client
            .get(system.url(&format!("/v1/accounts/{}/followers", other(people).id)))
            .bearer_auth(&user.token),
        (Action::ReadRelationships, Some(user)) => client
            .get(system.url(&format!("/v1/me/relationships?ids={}", other(people).id)))
            .bearer_auth(&user.token),
        (Action::CreatePost, Some(user)) => client
            .post(system.url("/v1/posts"))
            .bearer_auth(&user.token)
            .json(&json!({ "text": format!("A day out with {} #cycling", user.username), "audience": "public" })),
        (Action::ReadPost, Some(user)) => {
            client.get(system.url(&format!("/v1/posts/{}", others_post(people)?))).bearer_auth(&user.token)
        }
        (Action::LikePost, Some(user)) => {
            client.put(system.url(&format!("/v1/posts/{}/like", others_post(people)?))).bearer_auth(&user.token)
        }
    };
    let measured = system.measure(request).await?;
    if measured.status != action.succeeds_with() {
        return Err(format!("{} answered {} {}", action.title(), measured.status, measured.body));
    }
    let text = |pointer: &str| {
        measured.body.pointer(pointer).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
    };
    match action {
        Action::SignUp => {
            let username = text("/account/username");
            let password = password_of(&username, 0);
            let (id, token) = (text("/account/id"), text("/token"));
            people.users.push(User { id, username, password, token, last_post: None });
        }
        Action::LogIn => people.users[actor].token = text("/token"),
        Action::CreatePost => people.users[actor].last_post = Some(text("/id")),
        Action::ChangePassword => {
            let user = &mut people.users[actor];
            user.password = next_password(&user.password);
        }
        Action::EraseAccount => {
            people.users.remove(actor);
        }
        _ => {}
    }
    Ok(measured)
}

/// A password of the same length for every user and generation.
fn password_of(username: &str, generation: u32) -> String {
    format!("{username}-pass-{generation:04}")
}

fn next_password(password: &str) -> String {
    let (stem, generation) = password.rsplit_once('-').expect("passwords end in their generation");
    let generation: u32 = generation.parse().expect("a generation number");
    format!("{stem}-{:04}", generation + 1)
}

/// A day of a small network of `users` people: each signs up, logs in, opens its own profile,
/// two others' and edits its own, follows the next one and puts it among its friends, reads
/// that relationship and the next one's followers; all but the last post, and read and like the
/// next one's post; one mutes, unfollows, one blocks; one
/// changes its password and one logs out everywhere (each then logs in again), and one erases
/// its account. Every action is made at least once.
pub async fn a_day(system: &mut MeteredSystem, users: usize) -> Result<Vec<(Action, Measured)>, String> {
    let users = users.max(3);
    let mut people = People::default();
    let mut made = Vec::new();
    for _ in 0..users {
        make(system, &mut people, &mut made, Action::SignUp, 0).await?;
    }
    for actor in 0..users {
        for action in [
            Action::LogIn,
            Action::ReadOwnProfile,
            Action::ReadProfile,
            Action::ReadProfileByUsername,
            Action::EditProfile,
            Action::Follow,
            Action::AddToAudience,
            Action::ReadRelationships,
            Action::ListFollowers,
        ] {
            make(system, &mut people, &mut made, action, actor).await?;
        }
    }
    // The last user, whom the day erases, neither posts nor likes: an erasure of someone with
    // content takes it out step by step, alongside the graph's steps, and how the fan-out
    // batches the two domains' steps is timing, not cost.
    for actor in 0..users - 1 {
        make(system, &mut people, &mut made, Action::CreatePost, actor).await?;
    }
    for actor in 0..users - 2 {
        for action in [Action::ReadPost, Action::LikePost] {
            make(system, &mut people, &mut made, action, actor).await?;
        }
    }
    for (actor, action) in [(0, Action::Mute), (0, Action::Unfollow), (1, Action::Block)] {
        make(system, &mut people, &mut made, action, actor).await?;
    }
    for (actor, action) in [(0, Action::ChangePassword), (1, Action::RevokeSessions)] {
        make(system, &mut people, &mut made, action, actor).await?;
        make(system, &mut people, &mut made, Action::LogIn, actor).await?;
    }
    make(system, &mut people, &mut made, Action::EraseAccount, users - 1).await?;
    Ok(made)
}

async fn make(
    system: &mut MeteredSystem,
    people: &mut People,
    made: &mut Vec<(Action, Measured)>,
    action: Action,
    actor: usize,
) -> Result<(), String> {
    made.push((action, perform(system, people, action, actor).await?));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_keep_their_length_from_generation_to_generation() {
        let first = password_of("user000001", 0);
        let second = next_password(&first);
        assert_eq!(second, "user000001-pass-0001");
        assert_eq!(first.len(), second.len());
        assert!(first.len() >= 10, "sign-up takes passwords of 10 characters and more");
    }
}
