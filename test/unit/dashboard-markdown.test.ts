// The dashboard's Markdown: answers become HTML with their structure, and nothing in them runs.
import { describe, expect, test } from "vitest";
import { renderMarkdown } from "../../client/dashboard/markdown.ts";

describe("renderMarkdown", () => {
  test.each([
    ["# Title", "<h1>Title</h1>\n"],
    ["**bold** and `code`", "<p><strong>bold</strong> and <code>code</code></p>\n"],
    ["- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"],
    ["```\nnpm test\n```", "<pre><code>npm test\n</code></pre>\n"],
  ])("%j keeps its structure", (markdown, html) => {
    expect(renderMarkdown(markdown)).toBe(html);
  });

  test("a link opens a new tab with rel=noopener noreferrer", () => {
    expect(renderMarkdown("[the report](https://example.com/r)")).toBe(
      '<p><a href="https://example.com/r" rel="noopener noreferrer" target="_blank">the report</a></p>\n',
    );
    expect(renderMarkdown("see https://example.com/x")).toContain('rel="noopener noreferrer"');
  });

  test.each([
    ["raw HTML", "<script>alert(1)</script>", "<script"],
    ["an inline handler", '<img src=x onerror="alert(1)">', "<img"],
    ["an iframe", "<iframe src='https://evil.test'></iframe>", "<iframe"],
    ["a javascript: link", "[click](javascript:alert(1))", 'href="javascript:'],
    ["a vbscript: link", "[click](vbscript:msgbox(1))", 'href="vbscript:'],
    ["a data: link", "[click](data:text/html;base64,PHNjcmlwdD4=)", 'href="data:'],
  ])("%s does not become markup", (_what, markdown, forbidden) => {
    const html = renderMarkdown(markdown);
    expect(html).not.toContain(forbidden);
  });

  test("raw HTML is shown as text, escaped", () => {
    expect(renderMarkdown("<b>hi</b>")).toBe("<p>&lt;b&gt;hi&lt;/b&gt;</p>\n");
  });
});
