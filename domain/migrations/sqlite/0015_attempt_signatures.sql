-- The start of each signature an attempt was sent with (`v1,` and a few characters,
-- never the whole), for the webhook message view's headers. Older attempts have none.
ALTER TABLE webhook_attempts ADD COLUMN signature_excerpt TEXT;
