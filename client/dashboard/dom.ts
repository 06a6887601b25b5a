// Tiny DOM toolkit for the dashboard: elements built with text only (data never becomes markup),
// keyed lists updated in place so focus, scroll and layout survive every redraw, and a button's
// action run with its outcome shown.

type Attributes = Record<string, string>;

/** Creates an element; `text` is set as textContent, never parsed as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: { className?: string; text?: string; attrs?: Attributes } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.className) element.className = options.className;
  if (options.text !== undefined) element.textContent = options.text;
  for (const [name, value] of Object.entries(options.attrs ?? {})) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Sets text only when it differs, so unchanged nodes are not touched (no reflow, no flicker). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function setAttr(element: Element, name: string, value: string | null): void {
  if (value === null) element.removeAttribute(name);
  else if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

export interface ItemView<T> {
  root: HTMLElement;
  update(item: T): void;
}

/**
 * A list whose items are created once per key and updated in place on every redraw; items that
 * left are removed and the order follows the data. A focused Approve button keeps its focus.
 */
export class KeyedList<T> {
  private readonly views = new Map<string, ItemView<T>>();

  constructor(
    private readonly container: HTMLElement,
    private readonly keyOf: (item: T) => string,
    private readonly create: (item: T) => ItemView<T>,
  ) {}

  sync(items: readonly T[]): void {
    const seen = new Set<string>();
    let previous: Element | null = null;
    for (const item of items) {
      const key = this.keyOf(item);
      seen.add(key);
      let view = this.views.get(key);
      if (!view) {
        view = this.create(item);
        view.root.dataset.key = key;
        this.views.set(key, view);
      }
      view.update(item);
      const expectedPlace: Element | null = previous ? previous.nextElementSibling : this.container.firstElementChild;
      if (expectedPlace !== view.root) {
        if (previous) previous.after(view.root);
        else this.container.prepend(view.root);
      }
      previous = view.root;
    }
    for (const [key, view] of this.views) {
      if (seen.has(key)) continue;
      view.root.remove();
      this.views.delete(key);
    }
  }
}

/** The element with this id; a page without it was built from another index.html. */
export function byId(doc: Document, id: string): HTMLElement {
  const element = doc.getElementById(id);
  if (!element) throw new Error(`the dashboard page has no #${id}; is index.html from the same build?`);
  return element;
}

/** Runs a button's action, disabling `buttons` meanwhile, and reports into `outcome`. */
export async function act(
  buttons: HTMLButtonElement[],
  outcome: HTMLElement,
  run: () => Promise<string>,
  failure = "",
): Promise<void> {
  for (const button of buttons) button.disabled = true;
  outcome.dataset.kind = "pending";
  try {
    setText(outcome, await run());
    outcome.dataset.kind = "ok";
  } catch (error) {
    setText(outcome, `${failure}${(error as Error).message}`);
    outcome.dataset.kind = "error";
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

/** A list item of the dashboard: a "row" or a "card", its data attributes, its head line, then the rest. */
export function listItem(kind: "row" | "card", attrs: Attributes, head: Node[], ...rest: Node[]): HTMLLIElement {
  return el("li", { className: kind, attrs }, el("div", { className: `${kind}-head` }, ...head), ...rest);
}
