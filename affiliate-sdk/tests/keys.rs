//! Keys and keyrings: lengths, encodings, redaction, constant-time equality, rotation.

use affiliate_sdk::{Error, Key, KeyError, Keyring};

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn short_long_and_badly_encoded_keys_are_refused() {
    assert_eq!(
        Key::from_bytes(&[1; 31]).unwrap_err(),
        Error::Key(KeyError::TooShort { len: 31 })
    );
    assert_eq!(
        Key::from_bytes(&[]).unwrap_err(),
        Error::Key(KeyError::TooShort { len: 0 })
    );
    assert_eq!(
        Key::from_bytes(&[1; 257]).unwrap_err(),
        Error::Key(KeyError::TooLong { len: 257 })
    );
    assert!(Key::from_bytes(&[1; 32]).is_ok() && Key::from_bytes(&[1; 256]).is_ok());

    assert_eq!(
        Key::from_base64(&b64(&[9; 31])).unwrap_err(),
        Error::Key(KeyError::TooShort { len: 31 })
    );
    let padded = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, [9u8; 32]);
    assert!(padded.ends_with('='));
    for bad in [
        padded.as_str(),
        "not base64!!",
        "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/",
        "",
    ] {
        let err = Key::from_base64(bad).unwrap_err();
        assert_eq!(err.code(), "malformed", "{bad}");
    }
    assert!(Key::from_base64(&"A".repeat(10_000)).is_err());
}

#[test]
fn generated_keys_are_32_random_bytes_and_round_trip() {
    let a = Key::generate().unwrap();
    let b = Key::generate().unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
    assert_eq!(Key::from_base64(&a.to_base64()).unwrap(), a);
    assert_eq!(a.to_base64().len(), 43);
}

#[test]
fn debug_output_never_shows_key_material() {
    let key = Key::from_bytes(&[0x41; 32]).unwrap();
    let text = key.to_base64();
    let ring = Keyring::new("k1", key.clone()).unwrap();
    for shown in [
        format!("{key:?}"),
        format!("{ring:?}"),
        format!("{ring:#?}"),
    ] {
        assert!(
            !shown.contains(&text) && !shown.contains("65, 65") && !shown.contains("QUFB"),
            "{shown}"
        );
    }
    assert!(format!("{ring:?}").contains("k1"));
}

#[test]
fn equality_compares_contents() {
    let a = Key::from_bytes(&[1; 32]).unwrap();
    let mut other = [1u8; 32];
    other[31] = 2;
    assert_eq!(a, Key::from_bytes(&[1; 32]).unwrap());
    assert_ne!(a, Key::from_bytes(&other).unwrap());
    assert_ne!(a, Key::from_bytes(&[1; 33]).unwrap());
}

#[test]
fn keyring_from_config_shape() {
    let k1 = b64(&[1; 32]);
    let k2 = b64(&[2; 40]);
    let ring = Keyring::from_base64([("k1", k1.as_str()), ("k2", k2.as_str())], "k2").unwrap();
    assert_eq!(ring.current_kid().as_str(), "k2");
    assert_eq!(
        ring.kids().map(|k| k.to_string()).collect::<Vec<_>>(),
        ["k1", "k2"]
    );

    let dup = Keyring::from_base64([("k1", k1.as_str()), ("k1", k2.as_str())], "k1");
    assert_eq!(
        dup.unwrap_err(),
        Error::Key(KeyError::DuplicateKid("k1".into()))
    );
    let missing = Keyring::from_base64([("k1", k1.as_str())], "k3");
    assert_eq!(
        missing.unwrap_err(),
        Error::Key(KeyError::UnknownCurrent("k3".into()))
    );
    for kid in ["", "k 1", "k.1", "kkkkkkkkkkkkkkkkk"] {
        let bad = Keyring::from_base64([(kid, k1.as_str())], kid);
        assert_eq!(
            bad.unwrap_err(),
            Error::Key(KeyError::InvalidKid),
            "{kid:?}"
        );
    }
    let short = Keyring::from_base64([("k1", b64(&[1; 8]).as_str())], "k1");
    assert_eq!(
        short.unwrap_err(),
        Error::Key(KeyError::TooShort { len: 8 })
    );
}

#[test]
fn keyring_edits() {
    let mut ring = Keyring::generate().unwrap();
    assert_eq!(ring.current_kid().as_str(), "k1");
    assert_eq!(
        ring.insert("k1", Key::generate().unwrap()).unwrap_err(),
        Error::Key(KeyError::DuplicateKid("k1".into()))
    );
    assert!(ring.set_current("k2").is_err());
    ring.insert("k2", Key::generate().unwrap()).unwrap();
    ring.insert("k3", Key::generate().unwrap()).unwrap();
    ring.set_current("k3").unwrap();
    assert!(!ring.remove("nope"));
    assert!(ring.remove("k1"));
    // Removing an earlier entry keeps the same current key.
    assert_eq!(ring.current_kid().as_str(), "k3");
    assert!(ring.key("k1").is_none() && ring.key("k2").is_some());
}
