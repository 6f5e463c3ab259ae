use std::fmt;

/// The marketplace a resource was sold through, and whose protocol its calls arrive in.
///
/// A resource belongs to the marketplace that provisioned it: the registry records it, and a
/// call for the resource from another marketplace finds nothing there (a provision reusing its
/// id is refused). The vendor's methods see it on every request for the rare case where it
/// matters (say, a dashboard link back to the marketplace).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Marketplace {
    /// Heroku's Add-on Partner API v3.
    #[default]
    Heroku,
    /// The Open Service Broker API v2 (Cloud Foundry, SAP BTP, Kubernetes).
    OpenServiceBroker,
    /// DigitalOcean's Add-Ons API.
    DigitalOcean,
}

impl Marketplace {
    /// Every marketplace, in the order above.
    pub const ALL: [Marketplace; 3] = [Self::Heroku, Self::OpenServiceBroker, Self::DigitalOcean];

    /// The name the registry records: `heroku`, `osb` or `digitalocean`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Heroku => "heroku",
            Self::OpenServiceBroker => "osb",
            Self::DigitalOcean => "digitalocean",
        }
    }

    /// The marketplace [`as_str`](Self::as_str) names, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|marketplace| marketplace.as_str() == name)
    }

    /// The name people know it by, for messages.
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::Heroku => "Heroku",
            Self::OpenServiceBroker => "Open Service Broker",
            Self::DigitalOcean => "DigitalOcean",
        }
    }
}

impl fmt::Display for Marketplace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

#[cfg(test)]
mod tests {
    use super::Marketplace;

    #[test]
    fn names_round_trip() {
        for marketplace in Marketplace::ALL {
            assert_eq!(Marketplace::parse(marketplace.as_str()), Some(marketplace));
        }
        assert_eq!(Marketplace::parse("Heroku"), None);
        assert_eq!(Marketplace::default(), Marketplace::Heroku);
    }
}
