//! The built-in, offline responder: answers from the widget's knowledge base by lexical
//! relevance (BM25 over each article's question and answer), and hands over when the visitor
//! asks for a person or when it has had no good answer twice in a row.

use std::collections::{HashMap, HashSet};

use super::{AiTurn, Responder, Turn, TurnFuture, asks_for_human};
use crate::domain::Author;
use crate::store::widgets::Article;

pub const NO_ANSWER: &str = "I couldn't find an answer to that. Could you put it another way? \
                             Or ask for a person and I'll bring in someone from the team.";

/// BM25 parameters (the usual defaults).
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// An article answers when it covers at least this share of the question's words.
const MIN_COVERAGE: f64 = 0.3;

pub struct KnowledgeBase;

impl Responder for KnowledgeBase {
    fn respond<'a>(&'a self, turn: Turn<'a>) -> TurnFuture<'a> {
        Box::pin(std::future::ready(decide(turn)))
    }
}

fn decide(turn: Turn<'_>) -> AiTurn {
    let Some(question) = turn
        .transcript
        .iter()
        .rev()
        .find(|m| m.author == Author::Visitor)
    else {
        return AiTurn::Handover;
    };
    if asks_for_human(&question.body) {
        return AiTurn::Handover;
    }
    if let Some(article) = best_answer(&question.body, turn.articles) {
        return AiTurn::Reply(article.answer.clone());
    }
    let last_ai = turn
        .transcript
        .iter()
        .rev()
        .find(|m| m.author == Author::Ai);
    if last_ai.is_some_and(|m| m.body == NO_ANSWER) {
        AiTurn::Handover
    } else {
        AiTurn::Reply(NO_ANSWER.to_owned())
    }
}

/// The most relevant article for `question`, if one is relevant enough.
pub fn best_answer<'a>(question: &str, articles: &'a [Article]) -> Option<&'a Article> {
    let query: HashSet<String> = terms(question).into_iter().collect();
    if query.is_empty() || articles.is_empty() {
        return None;
    }
    let docs: Vec<Vec<String>> = articles
        .iter()
        .map(|a| terms(&format!("{} {}", a.question, a.answer)))
        .collect();
    let n = docs.len() as f64;
    let average_len = docs.iter().map(Vec::len).sum::<usize>() as f64 / n;
    let mut document_frequency: HashMap<&str, f64> = HashMap::new();
    for doc in &docs {
        for term in doc.iter().collect::<HashSet<_>>() {
            *document_frequency.entry(term.as_str()).or_default() += 1.0;
        }
    }
    let scored = docs.iter().zip(articles).map(|(doc, article)| {
        let mut score = 0.0;
        let mut matched = 0usize;
        for term in &query {
            let tf = doc.iter().filter(|t| *t == term).count() as f64;
            if tf == 0.0 {
                continue;
            }
            matched += 1;
            let df = document_frequency
                .get(term.as_str())
                .copied()
                .unwrap_or(0.0);
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            score += idf * tf * (K1 + 1.0)
                / (tf + K1 * (1.0 - B + B * doc.len() as f64 / average_len.max(1.0)));
        }
        (score, matched as f64 / query.len() as f64, article)
    });
    scored
        .filter(|(score, coverage, _)| *score > 0.0 && *coverage >= MIN_COVERAGE)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.2.id.cmp(&a.2.id)))
        .map(|(_, _, article)| article)
}

/// Lower-cased words without stop words, plurals folded ("refunds" → "refund").
fn terms(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "a", "an", "the", "and", "or", "but", "is", "are", "was", "were", "be", "been", "do",
        "does", "did", "i", "you", "we", "it", "my", "your", "our", "me", "to", "of", "in", "on",
        "for", "at", "by", "with", "from", "how", "what", "when", "where", "why", "which", "who",
        "can", "could", "would", "should", "will", "there", "this", "that", "these", "those",
        "have", "has", "had", "not", "no", "yes", "so", "if", "about", "any", "hi", "hello", "hey",
        "please", "thanks", "thank", "get", "am", "want", "need", "like", "know", "tell",
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.len() >= 3 && !w.ends_with("ss") => stem.to_owned(),
            _ => w.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Message;

    fn article(id: i64, question: &str, answer: &str) -> Article {
        Article {
            id,
            widget_id: 1,
            question: question.into(),
            answer: answer.into(),
            created_at: 0,
        }
    }

    fn message(author: Author, body: &str) -> Message {
        Message {
            id: 0,
            conversation_id: 1,
            author,
            operator_id: None,
            body: body.into(),
            created_at: 0,
        }
    }

    fn kb() -> Vec<Article> {
        vec![
            article(
                1,
                "What are your opening hours?",
                "We are open 9:00 to 17:00, Monday to Friday.",
            ),
            article(
                2,
                "How do refunds work?",
                "Refunds go back to your card within 5 working days.",
            ),
            article(
                3,
                "Do you ship abroad?",
                "We ship to every EU country; shipping takes 3 to 7 days.",
            ),
        ]
    }

    fn turn(transcript: &[Message], articles: &[Article]) -> AiTurn {
        decide(Turn {
            transcript,
            articles,
        })
    }

    #[test]
    fn answers_from_the_most_relevant_article() {
        let kb = kb();
        for (question, expected) in [
            ("when are you open? what hours", 1),
            ("I want a refund for my order", 2),
            ("Can you ship my parcel abroad to Spain?", 3),
        ] {
            assert_eq!(
                best_answer(question, &kb).map(|a| a.id),
                Some(expected),
                "{question}"
            );
        }
        assert_eq!(
            best_answer("tell me a joke about cats", &kb).map(|a| a.id),
            None
        );
        let reply = turn(&[message(Author::Visitor, "how long do refunds take")], &kb);
        assert_eq!(reply, AiTurn::Reply(kb[1].answer.clone()));
    }

    #[test]
    fn hands_over_when_asked_in_words() {
        for text in [
            "Can I talk to a human?",
            "real person please",
            "I need an agent",
        ] {
            assert_eq!(
                turn(&[message(Author::Visitor, text)], &kb()),
                AiTurn::Handover,
                "{text}"
            );
        }
    }

    #[test]
    fn hands_over_after_two_unanswered_questions_in_a_row() {
        let first = [message(Author::Visitor, "what is the meaning of life")];
        assert_eq!(
            turn(&first, &kb()),
            AiTurn::Reply(NO_ANSWER.into()),
            "one miss: ask again"
        );
        let second = [
            message(Author::Visitor, "what is the meaning of life"),
            message(Author::Ai, NO_ANSWER),
            message(Author::Visitor, "the universe and everything"),
        ];
        assert_eq!(
            turn(&second, &kb()),
            AiTurn::Handover,
            "two misses in a row"
        );
        let recovered = [
            message(Author::Visitor, "what is the meaning of life"),
            message(Author::Ai, NO_ANSWER),
            message(Author::Visitor, "ok then, opening hours?"),
        ];
        assert_eq!(
            turn(&recovered, &kb()),
            AiTurn::Reply(kb()[0].answer.clone())
        );
    }

    #[test]
    fn an_empty_knowledge_base_never_invents_an_answer() {
        assert_eq!(
            turn(&[message(Author::Visitor, "opening hours?")], &[]),
            AiTurn::Reply(NO_ANSWER.into())
        );
    }
}
