import { describe, expect, it } from 'vitest';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { useConfirm, type ConfirmOptions } from './ConfirmDialog';

const question: ConfirmOptions = { title: 'Delete the user?', message: 'ann@example.test cannot sign in afterwards.', confirmLabel: 'Delete user' };

function Harness({ options = question }: { options?: ConfirmOptions }) {
  const { confirm, dialog } = useConfirm();
  const [answer, setAnswer] = useState('none');
  return (
    <div>
      <button type="button" onClick={() => void confirm(options).then((ok) => setAnswer(ok ? 'yes' : 'no'))}>
        Delete
      </button>
      <output data-testid="answer">{answer}</output>
      {dialog}
    </div>
  );
}

const answer = (): string | null => screen.getByTestId('answer').textContent;

async function open(): Promise<HTMLElement> {
  const trigger = screen.getByRole('button', { name: 'Delete' });
  trigger.focus();
  fireEvent.click(trigger);
  return screen.findByRole('alertdialog');
}

describe('ConfirmDialog', () => {
  it('is a labelled, described alertdialog with the safe choice focused and the action styled as destructive', async () => {
    render(<Harness />);
    const dlg = await open();
    expect(dlg.getAttribute('aria-modal')).toBe('true');
    expect(screen.getByRole('alertdialog', { name: 'Delete the user?' })).toBe(dlg);
    const desc = document.getElementById(dlg.getAttribute('aria-describedby') ?? '');
    expect(desc?.textContent).toBe('ann@example.test cannot sign in afterwards.');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('button', { name: 'Delete user' }).className).toContain('btn-theme-danger');
  });

  it('a non-destructive question uses the primary style', async () => {
    render(<Harness options={{ ...question, destructive: false, confirmLabel: 'Send' }} />);
    await open();
    expect(screen.getByRole('button', { name: 'Send' }).className).toContain('btn-theme ');
  });

  it('resolves true on confirm and returns the focus to the trigger', async () => {
    render(<Harness />);
    await open();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Delete user' }));
    });
    expect(answer()).toBe('yes');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Delete' }));
  });

  it('Escape cancels and returns the focus', async () => {
    render(<Harness />);
    await open();
    await act(async () => {
      fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape' });
    });
    expect(answer()).toBe('no');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Delete' }));
  });

  it('Cancel and the close button answer no', async () => {
    render(<Harness />);
    await open();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    });
    expect(answer()).toBe('no');
    await open();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Close dialog' }));
    });
    expect(answer()).toBe('no');
  });

  it('keeps Tab and Shift+Tab inside the dialog', async () => {
    render(<Harness />);
    const dlg = await open();
    const buttons = [...dlg.querySelectorAll('button')];
    const first = buttons[0] as HTMLElement;
    const last = buttons[buttons.length - 1] as HTMLElement;
    expect(last.textContent).toBe('Delete user');
    last.focus();
    fireEvent.keyDown(last, { key: 'Tab' });
    expect(document.activeElement).toBe(first);
    fireEvent.keyDown(first, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(last);
    // Focus that escaped (a click outside) is pulled back in.
    screen.getByRole('button', { name: 'Delete' }).focus();
    fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Tab' });
    expect(dlg.contains(document.activeElement)).toBe(true);
  });

  it('keeps the focus where the user typed when the parent re-renders', async () => {
    function Form() {
      const { confirm, dialog } = useConfirm();
      const [n, setN] = useState(0);
      return (
        <div>
          <button type="button" onClick={() => void confirm({ ...question, message: <input aria-label="Reason" onChange={() => setN(n + 1)} /> })}>
            Delete
          </button>
          <span>{n}</span>
          {dialog}
        </div>
      );
    }
    render(<Form />);
    await open();
    const reason = screen.getByRole('textbox', { name: 'Reason' });
    const accept = screen.getByRole('button', { name: 'Delete user' });
    accept.focus();
    fireEvent.change(reason, { target: { value: 'x' } });
    expect(document.activeElement).toBe(accept);
  });
});
