-- posbon schema 10, SQLite: photos attached to incidents are stored with their faces
-- blurred (docs/design/022-photo-attachments.md). size_bytes and sha256 are then the redacted
-- photo's; these columns say how it was redacted and which original it came from. NULL for
-- files that are not photos, and for photos attached before this schema (stored as sent).
-- Kept in step with ../postgres/0010_photo_redaction.sql.
ALTER TABLE incident_attachments ADD COLUMN faces_blurred INTEGER CHECK (faces_blurred >= 0);
ALTER TABLE incident_attachments ADD COLUMN original_sha256 TEXT CHECK (length(original_sha256) = 64);
ALTER TABLE incident_attachments ADD COLUMN original_sealed BOOLEAN CHECK (original_sealed IN (0, 1));
