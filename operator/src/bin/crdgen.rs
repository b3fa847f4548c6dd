//! Prints the CustomResourceDefinition YAML of every resource this operator serves.

fn main() -> Result<(), serde_yaml::Error> {
    print!("{}", storefront_operator::crdgen::crd_yaml()?);
    Ok(())
}
