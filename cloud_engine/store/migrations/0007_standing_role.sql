-- A time-limited (just-in-time) grant no longer replaces a member's standing role: the
-- role they held without an expiry is kept here and counts again once the grant expires.
ALTER TABLE user_permissions ADD COLUMN standing_role TEXT
    CHECK (standing_role IS NULL OR standing_role IN ('CloudViewer', 'CloudUser', 'CloudAdmin'));
