// An answer's Markdown as safe HTML for a task card. markdown-it with `html: false` never lets
// raw HTML through (it is shown as text), refuses javascript:, vbscript:, file: and data: link
// targets (its validateLink), and every link opens a new tab with rel="noopener noreferrer".
// Safe by construction rather than cleaned afterwards, and pure, so it is tested in Node.
import MarkdownIt from "markdown-it";

const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });

const renderLinkOpen =
  markdown.renderer.rules.link_open ??
  ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options));
markdown.renderer.rules.link_open = (tokens, index, options, env, self) => {
  const token = tokens[index];
  if (token) {
    token.attrSet("rel", "noopener noreferrer");
    token.attrSet("target", "_blank");
  }
  return renderLinkOpen(tokens, index, options, env, self);
};

/** Answers longer than this are cut before rendering (the transcript keeps them whole). */
export const MAX_RENDERED_CHARS = 200_000;

/** The HTML of an answer: headings, lists, code, tables and links, and nothing that runs. */
export function renderMarkdown(text: string): string {
  const source =
    text.length > MAX_RENDERED_CHARS
      ? `${text.slice(0, MAX_RENDERED_CHARS)}\n\n*(cut here; the transcript has it all)*`
      : text;
  return markdown.render(source);
}
