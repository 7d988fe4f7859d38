//! The `aws-iam` rotator: a new access key for an IAM user, over IAM's Query protocol
//! (`ListAccessKeys`, `DeleteAccessKey`, `CreateAccessKey`), signed with `SigV4` by
//! [`super::aws`]'s client.
//!
//! IAM allows two access keys per user, so a rotation deletes the state's `previous` key
//! before it creates the new one; the new key becomes `current` and the old `current`
//! becomes `previous`. Before changing anything it lists the user's keys: a user that
//! would still hold two keys (one the state does not know, e.g. left by a rotation whose
//! state was never written) is refused with the keys named, so no key is deleted for a
//! rotation that cannot happen. A login without `iam:ListAccessKeys` skips that check.
//!
//! IAM is global: requests go to `https://iam.amazonaws.com`, signed for `us-east-1` (the
//! China and GovCloud partitions, chosen by `region`, have their own), unless
//! `AWS_ENDPOINT_URL_IAM` or `AWS_ENDPOINT_URL` says otherwise.

use super::aws::{Client, Credentials, Endpoint, QueryError, xml_field};
use super::net::Network;
use super::shared::{optional_string, secret_string, string_at};
use crate::eval::{Value, ValueKind};

/// IAM's API version.
const VERSION: &str = "2010-05-08";

/// Rotates: see the module's documentation.
pub(super) fn rotate(
    inputs: &Value,
    state: Option<&Value>,
    network: &Network,
) -> Result<Value, String> {
    let creds = Credentials::from_inputs(inputs.get("login"), "login")?;
    let arn = string_at(inputs, "userArn", "")?;
    let user = user_name(&arn)?;
    let region = optional_string(inputs, "region", "")?;
    let (default_url, signing_region) = partition(region.as_deref());
    let endpoint = Endpoint::resolve_with_default("iam", "IAM", default_url, network)?;
    let key_at = |slot: &str| {
        state
            .and_then(|s| s.get(slot))
            .and_then(|k| k.get("accessKeyId"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (current, previous) = (key_at("current"), key_at("previous"));
    if previous.as_deref() == Some(creds.access_key_id.as_str()) {
        return Err(format!(
            "login: it uses access key {}, the state's previous key, which the rotation \
             deletes; log in with other credentials (or the current key)",
            creds.access_key_id
        ));
    }
    let iam = Iam {
        client: Client::new(network)?,
        endpoint,
        region: signing_region,
        creds,
        user: &user,
    };
    // Which keys would be left after deleting `previous`: two are the most IAM allows.
    let listed = match iam.call("ListAccessKeys", &[]) {
        Ok(xml) => Some(super::aws::xml_fields(&xml, "AccessKeyId")),
        Err(e) if e.code.as_deref() == Some("AccessDenied") => None,
        Err(e) => return Err(format!("ListAccessKeys for user {user:?}: {}", e.message)),
    };
    if let Some(keys) = &listed {
        let kept: Vec<&String> = keys
            .iter()
            .filter(|k| Some(*k) != previous.as_ref())
            .collect();
        if kept.len() >= 2 {
            let unknown: Vec<&str> = kept
                .iter()
                .filter(|k| Some(**k) != current.as_ref())
                .map(|k| k.as_str())
                .collect();
            let delete = match unknown.as_slice() {
                [one] => format!(
                    "delete the key it does not know, {one} (aws iam delete-access-key \
                     --user-name {user} --access-key-id {one})"
                ),
                _ => format!(
                    "delete the one that is not used (aws iam delete-access-key --user-name \
                     {user} --access-key-id KEY)"
                ),
            };
            return Err(format!(
                "user {user:?} already has two access keys ({}), and the state knows {}: IAM \
                 allows two per user; {delete} and rotate again",
                kept.iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                current
                    .as_deref()
                    .map_or_else(|| "neither".to_owned(), |c| format!("only {c} (current)")),
            ));
        }
    }
    if let Some(old) = &previous
        && listed.as_ref().is_none_or(|keys| keys.contains(old))
    {
        match iam.call("DeleteAccessKey", &[("AccessKeyId", old)]) {
            Ok(_) => {}
            // Already gone: what the rotation wants.
            Err(e) if e.code.as_deref() == Some("NoSuchEntity") => {}
            Err(e) => {
                return Err(format!(
                    "DeleteAccessKey {old} (the previous key) for user {user:?}: {}; nothing \
                     was changed",
                    e.message
                ));
            }
        }
    }
    let created = iam.call("CreateAccessKey", &[]).map_err(|e| {
        let deleted = previous.as_ref().map_or_else(String::new, |p| {
            format!(" (the previous key {p} was deleted)")
        });
        format!("CreateAccessKey for user {user:?}: {}{deleted}", e.message)
    })?;
    let field = |tag: &str| {
        xml_field(&created, tag)
            .ok_or_else(|| format!("CreateAccessKey for user {user:?}: the answer has no {tag}"))
    };
    let new_key = Value::object([
        (
            "accessKeyId".to_owned(),
            Value::string(field("AccessKeyId")?),
        ),
        (
            "secretAccessKey".to_owned(),
            secret_string(field("SecretAccessKey")?),
        ),
        ("createDate".to_owned(), Value::string(field("CreateDate")?)),
    ]);
    let mut next = vec![("current".to_owned(), new_key)];
    if let Some(c) = state.and_then(|s| s.get("current")) {
        let mut c = c.clone();
        if let ValueKind::Object(m) = &mut c.kind
            && let Some(secret) = m.get_mut("secretAccessKey")
        {
            secret.secret = true;
        }
        next.push(("previous".to_owned(), c));
    }
    Ok(Value::object(next))
}

/// The calls of one rotation: a user, and how to reach IAM.
struct Iam<'a> {
    client: Client,
    endpoint: Endpoint,
    region: &'static str,
    creds: Credentials,
    user: &'a str,
}

impl Iam<'_> {
    /// Calls `action` for the user with the extra parameters `params`.
    fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<String, QueryError> {
        let mut form = vec![
            ("Action", action),
            ("Version", VERSION),
            ("UserName", self.user),
        ];
        form.extend_from_slice(params);
        self.client
            .query(&self.endpoint, self.region, &self.creds, &form)
    }
}

/// The user name of an IAM user ARN: what follows its last `/`
/// (`arn:aws:iam::123456789012:user/division/alice` is `alice`).
fn user_name(arn: &str) -> Result<String, String> {
    let resource = arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.splitn(5, ':').nth(4))
        .filter(|_| arn.split(':').nth(2) == Some("iam"));
    match resource.and_then(|r| r.strip_prefix("user/")) {
        Some(path) => match path.rsplit('/').next() {
            Some(name) if !name.is_empty() => Ok(name.to_owned()),
            _ => Err(format!("userArn: {arn:?} names no user")),
        },
        None => Err(format!(
            "userArn: {arn:?} is not an IAM user ARN (arn:aws:iam::ACCOUNT:user/NAME)"
        )),
    }
}

/// IAM's public endpoint and signing region for `region`'s partition.
fn partition(region: Option<&str>) -> (&'static str, &'static str) {
    match region {
        Some(r) if r.starts_with("cn-") => {
            ("https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1")
        }
        Some(r) if r.starts_with("us-gov-") => {
            ("https://iam.us-gov.amazonaws.com", "us-gov-west-1")
        }
        _ => ("https://iam.amazonaws.com", "us-east-1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_come_from_the_arn() {
        assert_eq!(
            user_name("arn:aws:iam::123456789012:user/alice").unwrap(),
            "alice"
        );
        assert_eq!(
            user_name("arn:aws:iam::123456789012:user/division/team/bob").unwrap(),
            "bob"
        );
        for bad in [
            "alice",
            "arn:aws:iam::123456789012:role/admin",
            "arn:aws:s3:::bucket/user/x",
            "arn:aws:iam::1:user/",
        ] {
            assert!(user_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partitions_have_their_endpoints() {
        assert_eq!(partition(None).1, "us-east-1");
        assert_eq!(partition(Some("eu-west-1")).0, "https://iam.amazonaws.com");
        assert_eq!(partition(Some("cn-northwest-1")).1, "cn-north-1");
        assert_eq!(partition(Some("us-gov-east-1")).1, "us-gov-west-1");
    }
}
