-- Incident: a hand edit in the dashboard re-created handle_new_user() without its pinned
-- search_path; a SECURITY DEFINER function with a mutable search_path can be hijacked.
ALTER FUNCTION public.handle_new_user() RESET search_path;
