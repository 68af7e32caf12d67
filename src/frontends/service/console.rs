//! The reviewer console: one page (HTML, JavaScript and CSS compiled into the binary; no CDN, no
//! build step) and its JSON API. The API runs on the same service as gRPC, so its analyses share
//! the concurrency limit, the metrics and the audit log. The image travels only in the analysis
//! request; nothing is stored but what `Analyze` stores.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::domain::ids::AccountId;
use crate::domain::links::{AccountCluster, AccountDocument};
use crate::domain::report::Report;
use crate::frontends::access::{Caller, Role};
use crate::frontends::service::{IdForensicsService, ServiceError, SlotWait, pb};

/// The page may load only its own script, style and the images the API returns inline.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the page.
pub(super) async fn page() -> Response {
    asset("text/html; charset=utf-8", include_str!("console/index.html"))
}

/// `GET /console.js`.
pub(super) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("console/console.js"))
}

/// `GET /console.css`.
pub(super) async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("console/console.css"))
}

/// An API error: the HTTP status for the gRPC code, and the same reason and message.
pub(super) struct ApiError(ServiceError);

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        use tonic::Code;
        let (code, reason) = self.0.code_and_reason();
        let status = match code {
            Code::InvalidArgument => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::AlreadyExists => StatusCode::CONFLICT,
            Code::FailedPrecondition => StatusCode::PRECONDITION_FAILED,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = Json(serde_json::json!({ "reason": reason, "message": self.0.to_string() }));
        let mut response = (status, body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The caller of an HTTP request, if it comes from the console's own origin and its bearer token's
/// role may act as `needed`.
fn caller(service: &IdForensicsService, headers: &HeaderMap, needed: Role) -> Result<Caller, ServiceError> {
    let text = |name| headers.get(name).and_then(|value: &HeaderValue| value.to_str().ok());
    service.access.check_origin(text(header::ORIGIN), text(header::HOST))?;
    let authorization = headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    Ok(service.access.authorize(authorization, needed)?)
}

/// Counts a console call like a gRPC call of `method`.
fn counted<T>(
    service: &IdForensicsService,
    method: &str,
    result: Result<T, ServiceError>,
) -> Result<T, ApiError> {
    service.count(method, &result);
    Ok(result?)
}

/// Who the console is signed in as.
#[derive(Debug, Serialize)]
pub(super) struct Session {
    name: String,
    role: &'static str,
    may_register: bool,
    may_forget: bool,
}

/// `GET /api/session`: the caller, if it may use the console.
pub(super) async fn session(
    State(service): State<IdForensicsService>,
    headers: HeaderMap,
) -> Result<Json<Session>, ApiError> {
    let caller = caller(&service, &headers, Role::Review)?;
    Ok(Json(Session {
        name: caller.name,
        role: caller.role.as_str(),
        may_register: caller.role >= Role::Analyze,
        may_forget: caller.role >= Role::Admin,
    }))
}

/// `POST /api/analyze` query: who the upload belongs to and whether to register it.
#[derive(Debug, Deserialize)]
pub(super) struct AnalyzeQuery {
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    document_id: String,
    #[serde(default)]
    register: bool,
}

/// One heatmap, inline.
#[derive(Debug, Serialize)]
struct Heatmap {
    name: String,
    finding_code: String,
    width: u32,
    height: u32,
    png_base64: String,
}

/// The layout's zones as [left, top, right, bottom] fractions of the card, for the overlay.
#[derive(Debug, Serialize)]
struct Zones {
    portrait: [f32; 4],
    data: [f32; 4],
}

/// What the console shows for one upload.
#[derive(Debug, Serialize)]
pub(super) struct Analysis {
    report: Report,
    heatmaps: Vec<Heatmap>,
    zones: Zones,
}

/// `POST /api/analyze`: the body is the image's bytes.
pub(super) async fn analyze(
    State(service): State<IdForensicsService>,
    headers: HeaderMap,
    Query(query): Query<AnalyzeQuery>,
    image: Bytes,
) -> Result<Json<Analysis>, ApiError> {
    let analysed = async {
        let caller = caller(&service, &headers, Role::Review)?;
        let request = pb::AnalyzeRequest {
            image: image.to_vec(),
            account_id: query.account_id,
            document_id: query.document_id,
            register: query.register,
            include_evidence_images: true,
            ..pb::AnalyzeRequest::default()
        };
        service.analyze_one(request, &caller, SlotWait::FailFast).await
    };
    let report = counted(&service, "console/analyze", analysed.await)?;
    let heatmaps = report
        .evidence_images
        .iter()
        .map(|image| Heatmap {
            name: image.name.clone(),
            finding_code: image.finding_code.as_str().to_owned(),
            width: image.width,
            height: image.height,
            png_base64: base64::engine::general_purpose::STANDARD.encode(&image.png),
        })
        .collect();
    let layout = &service.engine.models().reuse.layout;
    let zones = Zones { portrait: layout.portrait, data: layout.data };
    Ok(Json(Analysis { report, heatmaps, zones }))
}

/// What the console shows for one account.
#[derive(Debug, Serialize)]
pub(super) struct AccountView {
    account_id: String,
    documents: Vec<AccountDocument>,
    clusters: Vec<AccountCluster>,
}

/// `GET /api/accounts/{account_id}`: its documents and its linked-account cluster.
pub(super) async fn account(
    State(service): State<IdForensicsService>,
    headers: HeaderMap,
    Path(account_id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let viewed = async {
        let caller = caller(&service, &headers, Role::Review)?;
        let account = AccountId::new(account_id)?;
        let clusters = service.account_links_as(&caller, Some(account.clone())).await?;
        let documents = {
            let account = account.clone();
            service.run(SlotWait::FailFast, move |engine| engine.account_documents(&account)).await?
        };
        Ok(AccountView { account_id: account.as_str().to_owned(), documents, clusters })
    };
    Ok(Json(counted(&service, "console/account", viewed.await)?))
}

/// `POST /api/accounts/{account_id}/forget`: erase the account (admin).
pub(super) async fn forget(
    State(service): State<IdForensicsService>,
    headers: HeaderMap,
    Path(account_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let forgotten = async {
        let caller = caller(&service, &headers, Role::Admin)?;
        service.forget_account_as(&caller, account_id).await
    };
    let erased = counted(&service, "console/forget", forgotten.await)?;
    Ok(Json(serde_json::json!({ "documents_erased": erased })))
}
