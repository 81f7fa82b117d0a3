//! What a post's text and a thread's title must be, and what it says besides itself: the `@names` it mentions and the
//! `#tags` it carries. Pure: the command resolves the names to accounts.

use huddle_accounts::validation::{is_tag_char, username, MAX_TAG_CHARS};
use unicode_segmentation::UnicodeSegmentation;

/// At most this many characters (grapheme clusters: what a reader counts, so an emoji made of
/// several code points is one).
pub const MAX_TEXT_GRAPHEMES: usize = 2_000;
/// And at most this many bytes of UTF-8, whatever the characters: a stored event is at most
/// 24 KiB, and 2,000 emoji of several code points each would be more.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// A thread's title: at most this many characters, and this many bytes of UTF-8.
pub const MAX_TITLE_GRAPHEMES: usize = 100;
pub const MAX_TITLE_BYTES: usize = 2 * 1024;
/// At most this many different accounts named in one text: each costs a read when it is written.
pub const MAX_MENTIONS: usize = 20;
/// At most this many different tags in one text: each is an entry of the tag's list.
pub const MAX_TAGS: usize = 10;

/// Why a text (of a post or a thread's entry) is refused, for the 422's message.
pub fn refusal(text: &str) -> Option<String> {
    refusal_within(text, MAX_TEXT_GRAPHEMES, MAX_TEXT_BYTES)
}

/// Why a thread's title is refused: one is required (more than white space), and it follows a
/// text's rules within its own limits.
pub fn title_refusal(title: &str) -> Option<String> {
    if title.trim().is_empty() {
        return Some("is required".into());
    }
    refusal_within(title, MAX_TITLE_GRAPHEMES, MAX_TITLE_BYTES)
}

fn refusal_within(text: &str, max_graphemes: usize, max_bytes: usize) -> Option<String> {
    if text.len() > max_bytes || text.graphemes(true).nth(max_graphemes).is_some() {
        return Some(format!("at most {max_graphemes} characters ({max_bytes} bytes of UTF-8)"));
    }
    // Control characters other than line breaks and tabs, and the two non-characters a queue
    // refuses, have no place in a post.
    let unwanted = |c: char| {
        (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if text.chars().any(unwanted) {
        return Some("may not hold control characters".into());
    }
    None
}

/// The runs of `text` that follow `sigil` where a word begins (at the start, or after a
/// character that is no letter, digit or `_`), each up to the first character `part` refuses.
/// A run followed by a letter or digit `part` refuses (`#café`) is no run at all.
fn runs(text: &str, sigil: char, part: fn(char) -> bool) -> Vec<&str> {
    let mut runs = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts_word = previous.is_none_or(|p| !(p.is_alphanumeric() || p == '_'));
        previous = Some(c);
        if c != sigil || !starts_word {
            continue;
        }
        let rest = &text[at + c.len_utf8()..];
        let end = rest.find(|c: char| !part(c)).unwrap_or(rest.len());
        let followed_by_letter = rest[end..].chars().next().is_some_and(char::is_alphanumeric);
        if end > 0 && !followed_by_letter {
            runs.push(&rest[..end]);
        }
    }
    runs
}

/// The distinct items of `items`, in the order they first appear.
fn distinct(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// The usernames `text` mentions (`@Ana` is `ana`), each once, in order; an `@` before what
/// could be no username stays text.
pub fn mentioned_names(text: &str) -> Vec<String> {
    let name_part = |c: char| c.is_ascii_alphanumeric() || c == '_';
    distinct(runs(text, '@', name_part).into_iter().filter_map(|name| username(name).ok()))
}

/// The tags of `text` (`#Jazz` is `jazz`: the alphabet of interests), each once, in order.
pub fn tags(text: &str) -> Vec<String> {
    let tag_part = |c: char| is_tag_char(c.to_ascii_lowercase());
    let tags = runs(text, '#', tag_part).into_iter().map(str::to_ascii_lowercase);
    distinct(tags.filter(|tag| tag.len() <= MAX_TAG_CHARS))
}

/// Whether `tag` (from a path) is a tag as posts carry them, already lower-cased.
pub fn is_tag(tag: &str) -> bool {
    (1..=MAX_TAG_CHARS).contains(&tag.len()) && tag.chars().all(is_tag_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_counted_in_what_a_reader_sees_as_characters() {
        let flag = "🇸🇪"; // two code points, one grapheme cluster
        assert_eq!(refusal(&flag.repeat(MAX_TEXT_GRAPHEMES)), None);
        assert!(refusal(&flag.repeat(MAX_TEXT_GRAPHEMES + 1)).is_some());
        let family = "👩‍👩‍👧"; // five code points (18 bytes), one grapheme cluster
        assert_eq!(refusal(&family.repeat(MAX_TEXT_BYTES / family.len())), None);
        assert!(refusal(&family.repeat(MAX_TEXT_BYTES / family.len() + 1)).is_some(), "past the bytes");
        assert!(refusal(&"a".repeat(MAX_TEXT_GRAPHEMES + 1)).is_some());
        assert_eq!(refusal("two\nlines\twith a tab"), None);
        assert!(refusal("a bell \u{7}").is_some() && refusal("\u{FFFF}").is_some());
    }

    #[test]
    fn a_title_is_required_and_short_with_a_texts_characters() {
        assert_eq!(title_refusal("Summer 🇸🇪"), None);
        assert_eq!(title_refusal(&"🇸🇪".repeat(MAX_TITLE_GRAPHEMES)), None);
        assert!(title_refusal(&"a".repeat(MAX_TITLE_GRAPHEMES + 1)).is_some());
        // One character of a letter and 1,100 combining accents: 2,201 bytes.
        let heavy = format!("e{}", "\u{301}".repeat(1_100));
        assert!(heavy.graphemes(true).count() == 1 && title_refusal(&heavy).is_some(), "past the bytes");
        assert_eq!(title_refusal(""), Some("is required".into()));
        assert_eq!(title_refusal(" \n\t"), Some("is required".into()));
        assert!(title_refusal("a bell \u{7}").is_some());
    }

    #[test]
    fn mentions_are_usernames_after_an_at_where_a_word_begins() {
        assert_eq!(mentioned_names("hi @Ana and @bo_99, @ana again"), ["ana", "bo_99"]);
        assert_eq!(mentioned_names("mail ana@example.com or @x or @"), Vec::<String>::new());
        assert_eq!(mentioned_names("(@cyd) @dee."), ["cyd", "dee"]);
        assert_eq!(mentioned_names("@ana\u{e9}"), Vec::<String>::new(), "no name is cut out of a word");
    }

    #[test]
    fn tags_are_lower_cased_in_the_interests_alphabet() {
        assert_eq!(tags("#Jazz and #jazz, #lo-fi #ok_2!"), ["jazz", "lo-fi", "ok_2"]);
        assert_eq!(tags("a#b # #café"), Vec::<String>::new());
        assert_eq!(tags(&format!("#{}", "a".repeat(MAX_TAG_CHARS + 1))), Vec::<String>::new());
        assert!(is_tag("lo-fi") && !is_tag("Jazz") && !is_tag("") && !is_tag(&"a".repeat(31)));
    }
}
