//! Task tokens: minted, verified on calls, attenuated (never widened), expired and revoked.

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use warrant_gateway::token::{self, Narrowing};
use warrant_gateway::{ArgConstraint, Grant, TokenAuthority, TokenError};

fn grant() -> Grant {
    Grant {
        agent: "triage-bot".to_string(),
        task: "triage ticket 123".to_string(),
        tools: vec![
            "github::get_issue".to_string(),
            "github::add_comment".to_string(),
        ],
        args: vec![ArgConstraint::parse("repo=acme/api").unwrap()],
        expires: Utc.with_ymd_and_hms(2026, 12, 7, 9, 15, 0).unwrap(),
    }
}

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, minute, 0).unwrap()
}

#[test]
fn a_minted_token_allows_its_task_and_nothing_else() {
    let authority = TokenAuthority::generate();
    let minted = authority.mint(&grant()).unwrap();
    let none = BTreeSet::new();
    let ok = authority
        .verify(
            &minted.token,
            "triage-bot",
            "github::get_issue",
            &json!({"repo": "acme/api", "n": 1}),
            at(5),
            &none,
        )
        .unwrap();
    assert_eq!(ok.agent, "triage-bot");
    assert_eq!(ok.task, "triage ticket 123");
    assert_eq!(ok.revocation_ids, minted.revocation_ids);

    let verify = |agent: &str, tool: &str, args: serde_json::Value, when| {
        authority.verify(&minted.token, agent, tool, &args, when, &none)
    };
    assert_eq!(
        verify(
            "triage-bot",
            "github::delete_repo",
            json!({"repo": "acme/api"}),
            at(5)
        ),
        Err(TokenError::ToolNotAllowed {
            tool: "github::delete_repo".to_string()
        })
    );
    assert_eq!(
        verify(
            "other-bot",
            "github::get_issue",
            json!({"repo": "acme/api"}),
            at(5)
        ),
        Err(TokenError::WrongAgent {
            agent: "other-bot".to_string()
        })
    );
    assert!(matches!(
        verify(
            "triage-bot",
            "github::get_issue",
            json!({"repo": "acme/web"}),
            at(5)
        ),
        Err(TokenError::ArgumentRefused { .. })
    ));
    assert!(matches!(
        verify("triage-bot", "github::get_issue", json!({}), at(5)),
        Err(TokenError::ArgumentRefused { .. })
    ));
    assert_eq!(
        verify(
            "triage-bot",
            "github::get_issue",
            json!({"repo": "acme/api"}),
            at(16)
        ),
        Err(TokenError::Expired)
    );
}

#[test]
fn another_key_or_a_tampered_token_is_refused() {
    let minted = TokenAuthority::generate().mint(&grant()).unwrap();
    let other = TokenAuthority::generate();
    assert!(matches!(
        other.verify(
            &minted.token,
            "triage-bot",
            "github::get_issue",
            &json!({"repo": "acme/api"}),
            at(1),
            &BTreeSet::new()
        ),
        Err(TokenError::Invalid(_))
    ));
    assert!(matches!(
        other.verify("not a token", "a", "b", &json!({}), at(1), &BTreeSet::new()),
        Err(TokenError::Invalid(_))
    ));
}

#[test]
fn an_attenuated_token_is_narrower_and_cannot_widen() {
    let authority = TokenAuthority::generate();
    let minted = authority.mint(&grant()).unwrap();
    let none = BTreeSet::new();
    // Narrower: one tool, one issue, five minutes.
    let narrowed = token::attenuate(
        &minted.token,
        &Narrowing {
            tools: Some(vec!["github::get_issue".to_string()]),
            args: vec![ArgConstraint::parse("issue=12*").unwrap()],
            expires: Some(at(5)),
        },
    )
    .unwrap();
    assert_eq!(narrowed.revocation_ids.len(), 2);
    assert_eq!(narrowed.revocation_ids[0], minted.revocation_ids[0]);
    let call = |token: &str, tool: &str, args: serde_json::Value, when| {
        authority.verify(token, "triage-bot", tool, &args, when, &none)
    };
    assert!(
        call(
            &narrowed.token,
            "github::get_issue",
            json!({"repo": "acme/api", "issue": "123"}),
            at(4)
        )
        .is_ok()
    );
    assert!(matches!(
        call(
            &narrowed.token,
            "github::add_comment",
            json!({"repo": "acme/api", "issue": "123"}),
            at(4)
        ),
        Err(TokenError::ToolNotAllowed { .. })
    ));
    assert!(matches!(
        call(
            &narrowed.token,
            "github::get_issue",
            json!({"repo": "acme/api", "issue": "99"}),
            at(4)
        ),
        Err(TokenError::ArgumentRefused { .. })
    ));
    assert_eq!(
        call(
            &narrowed.token,
            "github::get_issue",
            json!({"repo": "acme/api", "issue": "123"}),
            at(6)
        ),
        Err(TokenError::Expired)
    );

    // Trying to widen: more tools, a later expiry, another repository. The authority's checks
    // still apply, so none of it takes effect.
    let wider = token::attenuate(
        &minted.token,
        &Narrowing {
            tools: Some(vec![
                "github::get_issue".to_string(),
                "github::delete_repo".to_string(),
            ]),
            args: vec![ArgConstraint::parse("repo=*").unwrap()],
            expires: Some(at(59) + Duration::days(365)),
        },
    )
    .unwrap();
    assert!(matches!(
        call(
            &wider.token,
            "github::delete_repo",
            json!({"repo": "acme/api"}),
            at(4)
        ),
        Err(TokenError::ToolNotAllowed { .. })
    ));
    assert!(matches!(
        call(
            &wider.token,
            "github::get_issue",
            json!({"repo": "evil/api"}),
            at(4)
        ),
        Err(TokenError::ArgumentRefused { .. })
    ));
    assert_eq!(
        call(
            &wider.token,
            "github::get_issue",
            json!({"repo": "acme/api"}),
            at(30)
        ),
        Err(TokenError::Expired)
    );
}

#[test]
fn a_block_claiming_another_agent_is_not_trusted() {
    // A raw block asserting facts: the verifier reads agent and task from the authority only,
    // and the call's agent check is the authority's.
    let authority = TokenAuthority::generate();
    let minted = authority.mint(&grant()).unwrap();
    let biscuit = biscuit_auth::UnverifiedBiscuit::from_base64(&minted.token).unwrap();
    let block = biscuit_auth::BlockBuilder::new()
        .code("agent(\"root\"); task(\"anything\"); call_agent(\"other-bot\"); call_tool(\"github::delete_repo\");")
        .unwrap();
    let forged = biscuit.append(block).unwrap().to_base64().unwrap();
    assert!(matches!(
        authority.verify(
            &forged,
            "other-bot",
            "github::get_issue",
            &json!({"repo": "acme/api"}),
            at(1),
            &BTreeSet::new()
        ),
        Err(TokenError::WrongAgent { .. })
    ));
    assert!(matches!(
        authority.verify(
            &forged,
            "triage-bot",
            "github::delete_repo",
            &json!({"repo": "acme/api"}),
            at(1),
            &BTreeSet::new()
        ),
        Err(TokenError::ToolNotAllowed { .. })
    ));
    let ok = authority
        .verify(
            &forged,
            "triage-bot",
            "github::get_issue",
            &json!({"repo": "acme/api"}),
            at(1),
            &BTreeSet::new(),
        )
        .unwrap();
    assert_eq!(ok.agent, "triage-bot");
}

#[test]
fn revoking_the_grant_revokes_its_attenuations() {
    let authority = TokenAuthority::generate();
    let minted = authority.mint(&grant()).unwrap();
    let narrowed = token::attenuate(&minted.token, &Narrowing::default()).unwrap();
    let revoked: BTreeSet<String> = [minted.revocation_ids[0].clone()].into();
    for token in [&minted.token, &narrowed.token] {
        assert!(matches!(
            authority.verify(
                token,
                "triage-bot",
                "github::get_issue",
                &json!({"repo": "acme/api"}),
                at(1),
                &revoked
            ),
            Err(TokenError::Revoked { .. })
        ));
    }
    assert_eq!(
        token::revocation_ids(&narrowed.token).unwrap(),
        narrowed.revocation_ids
    );
}

#[test]
fn the_root_key_round_trips_as_hex() {
    let authority = TokenAuthority::generate();
    let again = TokenAuthority::from_private_key_hex(&authority.private_key_hex()).unwrap();
    assert_eq!(again.public_key_hex(), authority.public_key_hex());
    let minted = authority.mint(&grant()).unwrap();
    assert!(
        again
            .verify(
                &minted.token,
                "triage-bot",
                "github::get_issue",
                &json!({"repo": "acme/api"}),
                at(1),
                &BTreeSet::new()
            )
            .is_ok()
    );
    assert_eq!(
        TokenAuthority::from_private_key_hex("zz").unwrap_err(),
        TokenError::BadKey
    );
    assert!(token::describe(&minted.token).unwrap()[0].contains("triage ticket 123"));
}

#[test]
fn authenticate_reads_the_authority_block_before_any_call() {
    let authority = TokenAuthority::generate();
    let minted = authority.mint(&grant()).unwrap();
    let none = BTreeSet::new();
    let who = authority.authenticate(&minted.token, at(5), &none).unwrap();
    assert_eq!(who.agent, "triage-bot");
    assert_eq!(who.task, "triage ticket 123");
    assert_eq!(who.revocation_ids, minted.revocation_ids);
    assert_eq!(
        authority.authenticate(&minted.token, at(16), &none),
        Err(TokenError::Expired)
    );
    let revoked: BTreeSet<String> = minted.revocation_ids.iter().cloned().collect();
    assert!(matches!(
        authority.authenticate(&minted.token, at(5), &revoked),
        Err(TokenError::Revoked { .. })
    ));
    assert!(matches!(
        TokenAuthority::generate().authenticate(&minted.token, at(5), &none),
        Err(TokenError::Invalid(_))
    ));
    // An attenuated token is its parent's agent and task, with one more revocation id.
    let narrowed = token::attenuate(
        &minted.token,
        &Narrowing {
            tools: Some(vec!["github::get_issue".to_string()]),
            ..Narrowing::default()
        },
    )
    .unwrap();
    let who = authority
        .authenticate(&narrowed.token, at(5), &none)
        .unwrap();
    assert_eq!(who.agent, "triage-bot");
    assert_eq!(who.revocation_ids.len(), 2);
}
