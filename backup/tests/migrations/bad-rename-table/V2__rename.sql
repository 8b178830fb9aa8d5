ALTER TABLE public.item RENAME TO article;
