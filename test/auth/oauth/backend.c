/*
 * test/auth/oauth: email sign-in with Google and an OIDC provider through
 * Cognito's hosted domain, email MFA through an SES identity. The client
 * secrets are secret NAMES: their values live in SSM and never in the
 * template.
 */
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_auth(b, &(synth_auth_props){
		.mfa = SYNTH_MFA_OPTIONAL,
		.mfa_totp = true,
		.mfa_email = true,
		.email_sender = &(synth_auth_email_sender){
			.ses_identity = "example.com",
			.from = "Example <no-reply@example.com>"},
		.attributes = (const synth_auth_attribute[]){
			{.name = "given_name"}, {.name = "tenant", .custom = true}, {0}},
		.external = &(synth_auth_external){
			.google = &(synth_auth_provider){
				.client_id = "1234-abc.apps.googleusercontent.com",
				.client_secret = "GOOGLE_CLIENT_SECRET",
				.attribute_mapping = (const synth_auth_attribute_map[]){
					{"given_name", "given_name"}, {0}}},
			.oidc = (const synth_auth_oidc_provider[]){
				{.name = "Okta",
				 .client_id = "okta-client",
				 .client_secret = "OKTA_CLIENT_SECRET",
				 .issuer_url = "https://example.okta.com/oauth2/default",
				 .scopes = (const char *const[]){"openid", "email", "profile", NULL},
				 .attribute_mapping = (const synth_auth_attribute_map[]){
					 {"custom:tenant", "org"}, {0}}},
				{0}},
			.callback_urls = (const char *const[]){
				"http://localhost:3000/", "https://app.example.com/callback", NULL},
			.logout_urls = (const char *const[]){
				"http://localhost:3000/", "https://app.example.com/", NULL},
		},
	});
	return synth_backend_main(b);
}
