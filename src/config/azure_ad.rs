//! The Microsoft.Identity.Web `AzureAd` configuration section: work in progress.
