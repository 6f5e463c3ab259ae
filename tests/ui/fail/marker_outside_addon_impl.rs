use addon_runtime::prelude::*;

#[provision]
async fn provision(_request: ProvisionRequest) -> Result<Provisioned, AddonError> {
    Ok(Provisioned::new(Config::new()))
}

fn main() {}
