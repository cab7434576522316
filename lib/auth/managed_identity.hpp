#pragma once
// Token requests of an Azure managed identity: no secret of ours, the platform
// vouches for the machine. Two protocols:
//  - IMDS, the Instance Metadata Service of VMs, scale sets and AKS nodes:
//    GET <endpoint>?api-version=2018-02-01&resource=R[&client_id=C], header
//    "Metadata: true" (which a browser or an SSRF'd redirect cannot add);
//  - App Service and Container Apps: GET IDENTITY_ENDPOINT?api-version=2019-08-01
//    &resource=R[&client_id=C], header "X-IDENTITY-HEADER: <IDENTITY_HEADER>".
// Both answer {"access_token", "expires_in" and/or "expires_on", "token_type"}.
#include <string>

#include "config/config.hpp"
#include "http/transport.hpp"

namespace mdesync::auth {

// The resource a managed identity asks a token for: the scope without
// "/.default" (https://api.securitycenter.microsoft.com).
std::string identity_resource(const std::string& scope);

// The request for the tenant's identity endpoint; `identity_header` is
// IDENTITY_HEADER's value for the app_service protocol (unused for IMDS).
http::Request managed_identity_request(const config::TenantOptions& tenant, const std::string& identity_header);

}  // namespace mdesync::auth
