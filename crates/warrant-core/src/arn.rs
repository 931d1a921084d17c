//! IAM principal ARNs as logs and exports write them: with or without the IAM path
//! (`arn:aws:iam::A:role/service/etl` and `arn:aws:iam::A:role/etl` name one role).

/// An IAM user or role named by an ARN, without its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IamPrincipal<'a> {
    pub account: &'a str,
    /// `user` or `role`.
    pub kind: &'a str,
    pub name: &'a str,
}

impl<'a> IamPrincipal<'a> {
    /// The user or role `arn` names; `None` for any other ARN (or text).
    pub fn of(arn: &'a str) -> Option<IamPrincipal<'a>> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let service = parts.nth(1)?;
        let account = parts.nth(1)?;
        let (kind, rest) = parts.next()?.split_once('/')?;
        let name = rest.rsplit('/').next().filter(|n| !n.is_empty())?;
        (service == "iam" && matches!(kind, "user" | "role")).then_some(IamPrincipal {
            account,
            kind,
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_is_left_out_and_other_arns_are_not_principals() {
        let with_path = IamPrincipal::of("arn:aws:iam::111111111111:role/service/etl").unwrap();
        assert_eq!(
            with_path,
            IamPrincipal::of("arn:aws:iam::111111111111:role/etl").unwrap()
        );
        assert_eq!(
            (with_path.account, with_path.kind, with_path.name),
            ("111111111111", "role", "etl")
        );
        assert_ne!(
            IamPrincipal::of("arn:aws:iam::111111111111:user/etl"),
            Some(with_path)
        );
        for other in [
            "arn:aws:iam::111111111111:group/etl",
            "arn:aws:s3:::bucket/key",
            "arn:aws:sts::111111111111:assumed-role/etl/session",
            "system:serviceaccount:ns:etl",
            "arn:aws:iam::111111111111:role/",
        ] {
            assert_eq!(IamPrincipal::of(other), None, "{other}");
        }
    }
}
