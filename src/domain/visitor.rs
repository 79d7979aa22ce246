//! What operators call a visitor: their name or email when the site told us, else a stable
//! generated name ("Amber Otter") that is a pure function of the visitor's id, so every tab,
//! row and email shows the same one without storing it.

const ADJECTIVES: [&str; 64] = [
    "Amber", "Azure", "Bold", "Brave", "Bright", "Calm", "Clever", "Coral", "Cosmic", "Crimson",
    "Curious", "Dapper", "Daring", "Eager", "Emerald", "Fearless", "Gentle", "Golden", "Happy",
    "Hazel", "Honest", "Indigo", "Ivory", "Jade", "Jolly", "Kind", "Lively", "Lucky", "Lunar",
    "Magic", "Mellow", "Merry", "Misty", "Noble", "Olive", "Patient", "Pearl", "Plucky", "Polar",
    "Quick", "Quiet", "Rapid", "Rosy", "Ruby", "Rustic", "Sage", "Scarlet", "Shy", "Silver",
    "Sleek", "Smart", "Sunny", "Swift", "Teal", "Tidy", "Topaz", "Velvet", "Violet", "Vivid",
    "Warm", "Wild", "Windy", "Witty", "Zesty",
];

const ANIMALS: [&str; 64] = [
    "Albatross",
    "Alpaca",
    "Badger",
    "Beaver",
    "Bison",
    "Bobcat",
    "Buffalo",
    "Camel",
    "Cheetah",
    "Condor",
    "Cougar",
    "Coyote",
    "Crane",
    "Dingo",
    "Dolphin",
    "Eagle",
    "Falcon",
    "Ferret",
    "Finch",
    "Flamingo",
    "Fox",
    "Gazelle",
    "Gecko",
    "Heron",
    "Ibis",
    "Impala",
    "Jackal",
    "Jaguar",
    "Koala",
    "Lemur",
    "Leopard",
    "Lynx",
    "Magpie",
    "Marten",
    "Meerkat",
    "Moose",
    "Narwhal",
    "Ocelot",
    "Orca",
    "Osprey",
    "Otter",
    "Owl",
    "Panda",
    "Panther",
    "Parrot",
    "Pelican",
    "Penguin",
    "Puffin",
    "Quail",
    "Rabbit",
    "Raven",
    "Robin",
    "Salmon",
    "Seal",
    "Sparrow",
    "Stork",
    "Swan",
    "Tiger",
    "Toucan",
    "Turtle",
    "Walrus",
    "Wolf",
    "Wombat",
    "Zebra",
];

/// How many different generated names there are.
const NAMES: i64 = (ADJECTIVES.len() * ANIMALS.len()) as i64;

/// The generated name of visitor `id`. Consecutive ids get unrelated-looking names, and any
/// 4,096 consecutive ids get 4,096 different ones: the id is taken modulo 4,096 and shuffled
/// by a bijection (an odd multiplier, then an offset), which is split into the two words.
pub fn generated_name(id: i64) -> String {
    let slot = id.rem_euclid(NAMES);
    let shuffled = (slot * 2481 + 1013).rem_euclid(NAMES) as usize;
    format!(
        "{} {}",
        ADJECTIVES[shuffled % ADJECTIVES.len()],
        ANIMALS[shuffled / ADJECTIVES.len()]
    )
}

/// The name to show for a visitor: the name they gave, else their email, else the generated
/// name.
pub fn display_name(id: i64, name: Option<&str>, email: Option<&str>) -> String {
    name.or(email)
        .map(str::to_owned)
        .unwrap_or_else(|| generated_name(id))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_words_are_distinct_capitalised_words() {
        for words in [&ADJECTIVES[..], &ANIMALS[..]] {
            let unique: HashSet<_> = words.iter().collect();
            assert_eq!(unique.len(), words.len());
        }
    }

    #[test]
    fn name_then_email_then_generated() {
        assert_eq!(display_name(7, Some("Ana"), Some("ana@x.test")), "Ana");
        assert_eq!(display_name(7, None, Some("ana@x.test")), "ana@x.test");
        assert_eq!(display_name(7, None, None), generated_name(7));
    }

    proptest! {
        #[test]
        fn a_visitor_keeps_their_name(id in any::<i64>()) {
            prop_assert_eq!(generated_name(id), generated_name(id));
        }

        #[test]
        fn names_are_two_capitalised_words(id in any::<i64>()) {
            let name = generated_name(id);
            let words: Vec<&str> = name.split(' ').collect();
            prop_assert_eq!(words.len(), 2, "{}", name);
            for word in words {
                let mut chars = word.chars();
                prop_assert!(chars.next().is_some_and(|c| c.is_ascii_uppercase()), "{}", name);
                prop_assert!(chars.all(|c| c.is_ascii_lowercase()), "{}", name);
            }
        }

        #[test]
        fn any_4096_consecutive_visitors_have_different_names(start in 0i64..1_000_000_000) {
            let names: HashSet<String> = (start..start + NAMES).map(generated_name).collect();
            prop_assert_eq!(names.len() as i64, NAMES);
        }
    }
}
