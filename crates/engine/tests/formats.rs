//! Behaviour of the format walkers, encodings and actions through the public API.

use phiguard_engine::{
    Action, Encoding, Outcome, PhiType, Profile, ProfileSpec, UnscannableReason,
};

fn default() -> Profile {
    Profile::builtin_default()
}

fn out(o: &Outcome) -> String {
    match o {
        Outcome::Redacted { output, .. } => String::from_utf8_lossy(output).into_owned(),
        other => panic!("expected Redacted, got {other:?}"),
    }
}

fn types(o: &Outcome) -> Vec<PhiType> {
    o.findings().iter().map(|f| f.phi_type).collect()
}

fn spec(yaml: &str) -> ProfileSpec {
    serde_yaml::from_str(yaml).unwrap()
}

#[test]
fn query_rewrites_only_changed_pairs() {
    let p = default();
    let q = "v=2&tid=G-ABC123&em=jane.doe%40example.com&fn=Jane&cid=123456789.1700000000&dl=https%3A%2F%2Fshop.example%2Fcart";
    let o = p.redact_query(q);
    assert_eq!(
        out(&o),
        "v=2&tid=G-ABC123&em=[REDACTED:EMAIL]&fn=[REDACTED:PERSON_NAME]&cid=123456789.1700000000&dl=https%3A%2F%2Fshop.example%2Fcart"
    );
    let f = &o.findings()[0];
    assert_eq!(f.key_path.as_deref(), Some("em"));
    assert_eq!(f.encoding, Encoding::Percent);
    assert_eq!(&q[f.range.clone()], "jane.doe%40example.com");
    assert_eq!(
        p.redact_query("v=2&tid=G-1&cid=123456789.1700000000&pr=19.99"),
        Outcome::Clean
    );
}

#[test]
fn query_double_encoding_plus_and_brackets() {
    let p = default();
    let o = p.redact_query("ud[em]=a%2540b.com&q=call+212+555+0143&ud[ph]=12125550143");
    assert_eq!(
        types(&o),
        vec![PhiType::Email, PhiType::Phone, PhiType::Phone]
    );
    let s = out(&o);
    assert!(!s.contains("a%2540b") && !s.contains("0143"), "{s}");
}

#[test]
fn json_keeps_structure_and_paths() {
    let p = default();
    let body = br#"{"event_name":"Purchase","user_data":{"em":["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],"ph":"+1 (212) 555-0143","fn":"Jane"},"custom_data":{"value":19.99,"order_id":"ORD-100234","content_ids":["SKU-4821-BLK"]},"event_id":"550e8400-e29b-41d4-a716-446655440000"}"#;
    let o = p.redact_json(body);
    let s = out(&o);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["user_data"]["em"][0], "[REDACTED:HASHED_IDENTIFIER]");
    assert_eq!(v["user_data"]["ph"], "[REDACTED:PHONE]");
    assert_eq!(v["user_data"]["fn"], "[REDACTED:PERSON_NAME]");
    assert_eq!(v["custom_data"]["order_id"], "ORD-100234");
    assert_eq!(v["event_id"], "550e8400-e29b-41d4-a716-446655440000");
    let paths: Vec<_> = o
        .findings()
        .iter()
        .map(|f| f.key_path.clone().unwrap())
        .collect();
    assert_eq!(paths, ["user_data.em[0]", "user_data.ph", "user_data.fn"]);
    // A hex digest outside an identifier field passes.
    assert_eq!(
        p.redact_json(
            br#"{"etag":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}"#
        ),
        Outcome::Clean
    );
}

#[test]
fn json_unkeyed_scalars_report_their_whole_path() {
    // Members under no key rule: plain ones are passed over without
    // entering the key path, but a finding in one still names it.
    let p = default();
    let body = br#"{"event":"view","a":{"note":"call 212-555-0143 today","n":4111111111111111,"q":1,"e":"jane\u0040example.com"},"b":["x",{"c":"ok","d":"536-22-8726"}]}"#;
    let o = p.redact_json(body);
    let v: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(v["a"]["note"], "call [REDACTED:PHONE] today");
    assert_eq!(v["a"]["n"], "[REDACTED:CREDIT_CARD]");
    assert_eq!(v["a"]["q"], 1);
    assert_eq!(v["b"][1]["c"], "ok");
    let paths: Vec<_> = o
        .findings()
        .iter()
        .map(|f| (f.phi_type, f.key_path.clone().unwrap()))
        .collect();
    assert_eq!(
        paths,
        [
            (PhiType::Phone, "a.note".to_owned()),
            (PhiType::CreditCard, "a.n".to_owned()),
            (PhiType::Email, "a.e".to_owned()),
            (PhiType::Ssn, "b[1].d".to_owned()),
        ]
    );
}

#[test]
fn json_walks_share_no_state_between_documents() {
    // The walker keeps its buffers per thread between documents: a
    // document cut off deep inside, or one holding JSON in a string, must
    // not leave a key path or member list behind for the next one.
    let p = default();
    let cut = br#"{"a":{"b":[{"c":{"d":["#;
    assert!(matches!(
        p.redact_json(cut),
        Outcome::Unscannable {
            reason: UnscannableReason::MalformedJson
        }
    ));
    let nested = br#"{"x":"{\"user\":{\"ph\":\"212-555-0143\"}}","y":[1,{"fn":"Jane"}]}"#;
    for _ in 0..3 {
        let o = p.redact_json(nested);
        let paths: Vec<_> = o
            .findings()
            .iter()
            .map(|f| f.key_path.clone().unwrap())
            .collect();
        assert_eq!(paths, ["x.user.ph", "y[1].fn"], "{o:?}");
        let o = p.redact_json(br#"{"fn":"Jo","n":[[[[1]]]]}"#);
        assert_eq!(o.findings()[0].key_path.as_deref(), Some("fn"));
        assert!(p.redact_json(cut).findings().is_empty());
    }
}

#[test]
fn json_paths_of_escaped_and_non_utf8_keys() {
    let p = default();
    let body = b"{\"a\xff\":{\"p\\u0068\":\"+1 (212) 555-0143\"},\"l\":[{\"\xe2\x82\":\"ssn 219-44-5678\"}]}";
    let o = p.redact_json(body);
    let paths: Vec<_> = o
        .findings()
        .iter()
        .map(|f| f.key_path.clone().unwrap())
        .collect();
    assert_eq!(paths, ["a\u{fffd}.ph", "l[0].\u{fffd}"]);
}

#[test]
fn json_escapes_nested_json_and_base64() {
    let p = default();
    let o = p.redact_json(br#"{"note":"reach me at jane\u0040example.com"}"#);
    assert_eq!(o.findings()[0].encoding, Encoding::JsonEscape);
    assert!(!out(&o).contains("example.com"));

    let o = p.redact_json(br#"{"payload":"{\"email\":\"jane@example.com\",\"qty\":2}"}"#);
    let s = out(&o);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let inner: serde_json::Value = serde_json::from_str(v["payload"].as_str().unwrap()).unwrap();
    assert_eq!(inner["email"], "[REDACTED:EMAIL]");
    assert_eq!(inner["qty"], 2);

    // base64 of {"email":"jane@example.com"}
    let o = p.redact_query("d=eyJlbWFpbCI6ImphbmVAZXhhbXBsZS5jb20ifQ%3D%3D&x=1");
    assert_eq!(out(&o), "d=[REDACTED:EMAIL]&x=1");
    assert_eq!(o.findings()[0].encoding, Encoding::Percent);
}

#[test]
fn json_in_query_value() {
    let p = default();
    let o = p.redact_query("data=%7B%22phone%22%3A%222125550143%22%7D&v=1");
    assert_eq!(types(&o), vec![PhiType::Phone]);
    assert!(!out(&o).contains("2125550143"));
}

/// A URL's fragment (`#…`) is redacted like the rest of the value: the
/// query before it is walked, the fragment is a value of its own (plain
/// text, or `k=v&…` as in `#access_token=…&email=…`), and a clean fragment
/// comes through as it was.
#[test]
fn url_fragments_in_query_values_and_json_strings() {
    let p = default();
    // Encoded in a tracker's `dl`, and with `#` as it reaches the walker.
    for q in [
        "dl=https%3A%2F%2Fx.example%2Fp%3Fa%3D1%23jane%40example.com&v=2",
        "v=2&dl=https://x.example/p?a=1%23mail=jane%40example.com%26ph=2125550143",
    ] {
        let o = p.redact_query(q);
        let s = out(&o);
        assert!(!s.contains("jane") && !s.contains("0143"), "{q} -> {s}");
        assert!(types(&o).contains(&PhiType::Email), "{q}");
        // Under the field's path, as the URL's query is (`dl.mail`).
        assert!(o
            .findings()
            .iter()
            .all(|f| f.key_path.as_deref().is_some_and(|k| k.starts_with("dl"))));
    }
    let o = p.redact_query("dl=https%3A%2F%2Fx.example%2Fp%3Fa%3D1%23jane%40example.com");
    assert_eq!(
        out(&o),
        "dl=https%3A%2F%2Fx.example%2Fp%3Fa%3D1%23[REDACTED:EMAIL]",
        "only what changed is encoded anew; the rest keeps its spelling"
    );
    let o = p.redact_json(br#"{"u":"https://x.example/p?a=1#jane@example.com","n":1}"#);
    assert_eq!(
        out(&o),
        r#"{"u":"https://x.example/p?a=1#[REDACTED:EMAIL]","n":1}"#
    );
    assert_eq!(types(&o), vec![PhiType::Email]);
    let o = p.redact_json(br#"{"u":"https://x.example/p?e=jane@example.com#top"}"#);
    assert_eq!(
        out(&o),
        r#"{"u":"https://x.example/p?e=[REDACTED:EMAIL]#top"}"#
    );
    for clean in [
        "dl=https%3A%2F%2Fx.example%2Fp%3Fa%3D1%23top",
        "dl=https%3A%2F%2Fx.example%2Fp%3Fa%3D1%23",
        "dl=https%3A%2F%2Fx.example%2Fp%3Fa%3D1%23section%3D2",
    ] {
        assert_eq!(p.redact_query(clean), Outcome::Clean, "{clean}");
    }
}

/// A plus-addressed e-mail in a JSON string is masked whole: its `+` is
/// not read as a form-encoded space (which left `jane+` in front of the
/// mask), while `+` between words with no `@` still is.
#[test]
fn plus_addressed_emails_are_masked_whole() {
    let p = default();
    let o = p.redact_json(br#"{"em":"jane+smith@example.com","q":"x"}"#);
    assert_eq!(out(&o), r#"{"em":"[REDACTED:EMAIL]","q":"x"}"#);
    let o = p.redact_json(br#"{"note":"call+212-555-0143+today"}"#);
    assert_eq!(out(&o), r#"{"note":"call+[REDACTED:PHONE]+today"}"#);
    assert_eq!(types(&o), vec![PhiType::Phone]);
}

#[test]
fn drop_action_removes_fields_and_keeps_json_valid() {
    let p = Profile::compile(&spec("action: drop")).unwrap();
    for body in [
        r#"{"a":1,"email":"j@x.com","b":2}"#,
        r#"{"email":"j@x.com","b":2}"#,
        r#"{"a":1,"email":"j@x.com"}"#,
        r#"{"email":"j@x.com"}"#,
        r#"{"a":["j@x.com","k@y.org",3],"fn":"Jo"}"#,
    ] {
        let s = out(&p.redact_json(body.as_bytes()));
        let v: serde_json::Value = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(!s.contains('@'), "{s}");
        assert!(v.is_object());
    }
    assert_eq!(out(&p.redact_query("a=1&email=j%40x.com&b=2")), "a=1&b=2");
    assert_eq!(out(&p.redact_query("email=j%40x.com&b=2")), "b=2");
}

#[test]
fn block_and_unscannable() {
    let p = Profile::compile(&spec("actions: { ssn: block }")).unwrap();
    assert!(matches!(
        p.redact_text(b"ssn 219-44-5678"),
        Outcome::Blocked { .. }
    ));
    let d = default();
    assert_eq!(
        d.redact_json(b"{\"a\":"),
        Outcome::Unscannable {
            reason: UnscannableReason::MalformedJson
        }
    );
    let deep = "[".repeat(100) + &"]".repeat(100);
    assert_eq!(
        d.redact_json(deep.as_bytes()),
        Outcome::Unscannable {
            reason: UnscannableReason::JsonDepth
        }
    );
    // Percent-encoded 6 times exceeds the default decode depth of 4.
    let mut v = "jane@example.com".to_string();
    for _ in 0..6 {
        v = v.replace('%', "%25").replace('@', "%40");
    }
    assert!(matches!(
        d.redact_query(&format!("note={v}")),
        Outcome::Unscannable {
            reason: UnscannableReason::DecodeDepth
        } | Outcome::Redacted { .. }
    ));
}

#[test]
fn pseudonyms_are_keyed_and_stable() {
    let yaml = "action: pseudonymize\npseudonym_key: hex:000102030405060708090a0b0c0d0e0f\npseudonym_key_id: k1";
    let p = Profile::compile(&spec(yaml)).unwrap();
    let a = out(&p.redact_query("em=Jane%40Example.com"));
    let b = out(&p.redact_query("em=jane%40example.com"));
    assert_eq!(a, b);
    assert!(a.starts_with("em=PSEUDO_EMAIL_k1_"), "{a}");
    let other = "action: pseudonymize\npseudonym_key: hex:ff0102030405060708090a0b0c0d0e0f\npseudonym_key_id: k2";
    let q = Profile::compile(&spec(other)).unwrap();
    assert_ne!(out(&q.redact_query("em=jane%40example.com"))[19..], a[19..]);
    assert_eq!(p.redact_text(a.as_bytes()), Outcome::Clean);
    let named = out(&p.redact_query("fn=Jane&ln=Doe"));
    assert_eq!(
        p.redact_query(&named),
        Outcome::Clean,
        "pseudonyms are stable under re-redaction"
    );
}

#[test]
fn zip_safe_harbor_prefix() {
    let p = Profile::compile(&spec("zip_keep_prefix: true")).unwrap();
    assert_eq!(
        out(&p.redact_query("zip=94105&zp=03601")),
        "zip=941**&zp=000**"
    );
    let o = p.redact_text(b"1 Main St, Boston, MA 02118");
    assert_eq!(out(&o), "[REDACTED:STREET_ADDRESS], Boston, MA 021**");
}

#[test]
fn access_log_line() {
    let p = default();
    let line = br#"203.0.113.9 - - [10/Oct/2023:13:55:36 +0000] "GET /checkout?email=jane%40example.com&fn=Jane&sku=WX-2291 HTTP/1.1" 200 512 "https://shop.example/?ref=mail" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)""#;
    let o = p.redact_auto(line);
    let s = out(&o);
    assert!(
        s.starts_with("[REDACTED:IPV4] - - [10/Oct/2023:13:55:36 +0000]"),
        "{s}"
    );
    assert!(
        s.contains("email=[REDACTED:EMAIL]&fn=[REDACTED:PERSON_NAME]&sku=WX-2291 HTTP/1.1"),
        "{s}"
    );
    assert!(s.contains("iPhone OS 17_0"), "{s}");
}

#[test]
fn text_pairs_classify_keys_as_a_query_does() {
    // `key=value` pairs in a log line get the same key classes as the same
    // pairs in a query string, nested keys (`customer.name`, `a[b]`) and a
    // parent right before the last of six segments included.
    let p = default();
    for pair in [
        "customer.name=Jane",
        "order[customer][name]=Jane",
        "a.b.c.d.customer.name=Jane",
        "fn=Jane",
    ] {
        let line = format!("GET /x?{pair}&sku=WX-2291 HTTP/1.1");
        let text = p.redact_text(line.as_bytes());
        let query = p.redact_query_bytes(pair.as_bytes());
        assert_eq!(
            types(&text),
            [PhiType::PersonName],
            "{pair}: {}",
            out(&text)
        );
        assert_eq!(types(&query), [PhiType::PersonName], "{pair}");
        assert!(
            out(&text).contains("=[REDACTED:PERSON_NAME]&sku=WX-2291"),
            "{}",
            out(&text)
        );
    }
    // An unkeyed name stays.
    assert!(matches!(
        p.redact_text(b"GET /x?title=Jane HTTP/1.1"),
        Outcome::Clean
    ));
}

#[test]
fn secrets_and_negatives() {
    let p = default();
    let o = p.redact_text(b"key AKIAIOSFODNN7EXAMPLE sk_live_4eC39HqLyjWDarjtT1zdp7dc shpat_0123456789abcdef0123456789abcdef Authorization: Bearer abcdef0123456789abcdef pk_live_51Habcdefghijklmnop");
    assert_eq!(
        types(&o),
        vec![
            PhiType::AwsAccessKey,
            PhiType::StripeSecretKey,
            PhiType::ShopifyToken,
            PhiType::BearerToken
        ]
    );
    assert!(out(&o).ends_with("pk_live_51Habcdefghijklmnop"));
    // Token characters beyond [A-Za-z0-9-] are all covered; `+` from an inner form encoding.
    let o = p.redact_query("auth=Bearer%2B-ab_cd.ef~gh_ij12345678");
    assert_eq!(types(&o), vec![PhiType::BearerToken]);
    assert!(!out(&o).contains("ab_cd"), "{}", out(&o));
}

#[test]
fn custom_detectors_and_config_errors() {
    let yaml = r#"
custom:
  - name: member_card
    regex: 'HC-[0-9]{8}'
    keywords: [card]
  - name: rx
    regex: 'RX(?P<value>[0-9]{11})\b'
    validator: luhn
actions: { member_card: drop }
"#;
    let p = Profile::compile(&spec(yaml)).unwrap();
    let text = format!(
        "card HC-12345678{}HC-87654321 rx RX12345678901 RX79927398713",
        " ".repeat(60)
    );
    let o = p.redact_text(text.as_bytes());
    assert_eq!(o.findings().len(), 2);
    assert!(out(&o).contains("HC-87654321 rx RX12345678901 RX[REDACTED:RX]"));
    assert_eq!(o.findings()[0].action, Action::Drop);
    assert_eq!(p.label(o.findings()[1].phi_type), "RX");

    // A whole value that is a number token no built-in pattern fits is
    // still run past the custom detectors.
    let p = Profile::compile(&spec("custom: [{name: epoch, regex: '17[0-9]{8}'}]")).unwrap();
    let o = p.redact_query("v=2&sid=1700000000&pr=129.99");
    assert_eq!(out(&o), "v=2&sid=[REDACTED:EPOCH]&pr=129.99");

    let err = |y: &str| Profile::compile(&spec(y)).unwrap_err().to_string();
    assert!(err("detectors: [email, phone, nope]").starts_with("detectors[2]:"));
    assert!(err("custom: [{name: x, regex: '('}]").starts_with("custom[0].regex:"));
    assert!(err("action: pseudonymize").contains("pseudonym_key"));
    assert!(err("actions: { nope: drop }").starts_with("actions.nope:"));
    assert!(serde_yaml::from_str::<ProfileSpec>("bogus: 1").is_err());
}

#[test]
fn keys_from_config_match_naming_styles() {
    let p = Profile::compile(&spec("keys: { patient_first: name, 'order.buyer': name }")).unwrap();
    let o = p.redact_json(br#"{"patientFirst":"Ann","order":{"buyer":"Bo","sku":"X"}}"#);
    assert_eq!(types(&o), vec![PhiType::PersonName, PhiType::PersonName]);
}

#[test]
fn ndjson_lines() {
    let p = default();
    let o = p.redact_ndjson(b"{\"a\":1}\n{\"email\":\"j@x.com\"}\n\n{\"b\":2}\n");
    assert_eq!(
        out(&o),
        "{\"a\":1}\n{\"email\":\"[REDACTED:EMAIL]\"}\n\n{\"b\":2}\n"
    );
    // Line 2 starts at byte 8; its value at 8 + 10.
    assert_eq!(o.findings()[0].range, 18..25);
}
