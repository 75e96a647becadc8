//! Plugs the face model into the HTTP server for photos attached to incidents. Also compiled
//! into crates/cli/tests/photo_attachments.rs, which drives it over HTTP.

/// The face model as the server's [`server::attachments::PhotoRedactor`]: photos attached to
/// incidents are blurred as camera evidence is.
pub struct FacePhotos(pub workers::photo::Photos);

impl server::attachments::PhotoRedactor for FacePhotos {
    fn redact(
        &self,
        photo: &[u8],
    ) -> Result<server::attachments::RedactedPhoto, server::attachments::PhotoRedactionError> {
        use server::attachments::PhotoRedactionError as E;
        use workers::photo::PhotoError;
        match self.0.redact(photo) {
            Ok(p) => Ok(server::attachments::RedactedPhoto {
                jpeg: p.jpeg,
                faces: u32::try_from(p.faces).unwrap_or(u32::MAX),
            }),
            Err(PhotoError::Unreadable(m)) => Err(E::Unreadable(m)),
            Err(PhotoError::Redaction(m)) => Err(E::Failed(m)),
        }
    }
}
