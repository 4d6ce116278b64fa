package browsertest

import (
	"context"
	"fmt"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// describeFocus names the focused element for error messages.
const describeFocus = `(() => {
	const el = document.activeElement;
	if (!el || el === document.body) return "nothing (the body)";
	let s = el.tagName.toLowerCase();
	if (el.id) s += "#" + el.id;
	if (el.dataset.testid) s += '[data-testid="' + el.dataset.testid + '"]';
	const text = (el.textContent || "").trim().slice(0, 40);
	return text ? s + " «" + text + "»" : s;
})()`

// focusMatches reports whether the focused element matches a selector.
func focusMatches(sel chromedp.CSS) chromedp.Action[bool] {
	return chromedp.Evaluate[bool](fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, string(sel)))
}

// TabTo presses Tab, as a keyboard user would, until the focused element
// matches the CSS selector sel; more than limit presses fail the step, since
// the element is then out of reach or far down the tab order.
func TabTo(sel chromedp.CSS, limit int) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for range limit {
			if _, err := chromedp.KeyEvent(kb.Tab)(ctx, t); err != nil {
				return err
			}
			ok, err := focusMatches(sel)(ctx, t)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
		}
		where, _ := chromedp.Evaluate[string](describeFocus)(ctx, t)
		return fmt.Errorf("%d Tab presses did not reach %s; focus is on %s", limit, sel, where)
	})
}

// WaitFocus waits until the focused element matches the CSS selector sel.
func WaitFocus(sel chromedp.CSS) chromedp.Action[chromedp.Void] {
	return waitJS("focus on "+string(sel), fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, string(sel)))
}

// FocusVisible fails unless the focused element shows that it has focus: it
// matches :focus-visible and draws an outline or a box shadow.
func FocusVisible() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		ok, err := chromedp.Evaluate[bool](`(() => {
			const el = document.activeElement;
			if (!el || el === document.body || !el.matches(":focus-visible")) return false;
			const cs = getComputedStyle(el);
			return (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== "none";
		})()`)(ctx, t)
		if err != nil {
			return err
		}
		if !ok {
			where, _ := chromedp.Evaluate[string](describeFocus)(ctx, t)
			return fmt.Errorf("the focused element, %s, shows no focus indicator", where)
		}
		return nil
	})
}
