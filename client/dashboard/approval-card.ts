// An approval card: what waits (a step's prompt, a tool call's command or diff), Approve and
// Reject, and the outcome of the press.
import type { DashboardActions } from "./actions.ts";
import { act, el, type ItemView, listItem, setAttr, setText } from "./dom.ts";
import { type ApprovalItem, diffLines } from "./view-model.ts";

export function approvalCard(
  initial: ApprovalItem,
  actions: DashboardActions,
  outcome: HTMLElement,
): ItemView<ApprovalItem> {
  let current = initial;
  const description = el("span", { className: "description" });
  const channel = el("span", { className: "when" });
  const title = el("div", { className: "approval-title" });
  const detail = el("pre", { className: "approval-what" });
  let shownDetail: string | null = null;
  const approve = el("button", { className: "primary", text: "Approve", attrs: { type: "button" } });
  const reject = el("button", { text: "Reject", attrs: { type: "button" } });
  const buttons = [approve, reject];
  const decide = (decision: "approve" | "reject") => () => {
    const item = current;
    void act(
      buttons,
      outcome,
      () => actions[decision](item.taskId, item.step, item.approvalId ?? undefined),
      `Could not ${decision} “${item.description}”: `,
    );
  };
  approve.addEventListener("click", decide("approve"));
  reject.addEventListener("click", decide("reject"));
  const root = listItem(
    "card",
    { "data-task-id": initial.taskId },
    [description, channel],
    title,
    detail,
    el("div", { className: "actions" }, approve, reject),
  );
  return {
    root,
    update(item) {
      current = item;
      setText(description, item.description);
      setText(channel, item.channelText);
      setText(title, item.whatTitle);
      // Rebuilt only when it changed: a redraw keeps the diff's scroll position.
      const detailKey = `${item.detailKind}\u0000${item.whatDetail}`;
      if (detailKey !== shownDetail) {
        shownDetail = detailKey;
        showApprovalDetail(detail, item);
      }
      setAttr(approve, "aria-label", `Approve ${item.description}`);
      setAttr(reject, "aria-label", `Reject ${item.description}`);
    },
  };
}

/**
 * What an approval would let happen: a diff with each added and removed line marked (ins / del,
 * their +/- kept, so colour is never the only cue), a Bash command as code, or plain text.
 */
function showApprovalDetail(pre: HTMLElement, item: ApprovalItem): void {
  setAttr(pre, "data-kind", item.detailKind);
  if (item.detailKind === "diff") {
    setAttr(pre, "aria-label", `changes: ${item.whatTitle}`);
    pre.replaceChildren(
      ...diffLines(item.whatDetail).map((line) => {
        const tag = line.kind === "add" ? "ins" : line.kind === "remove" ? "del" : "span";
        return el(tag, { className: `diff-line diff-${line.kind}`, text: line.text });
      }),
    );
  } else if (item.detailKind === "command") {
    setAttr(pre, "aria-label", "command");
    pre.replaceChildren(el("code", { className: "command", text: item.whatDetail }));
  } else {
    setAttr(pre, "aria-label", null);
    pre.replaceChildren(item.whatDetail);
  }
}
