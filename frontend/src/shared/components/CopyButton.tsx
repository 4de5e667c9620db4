import { useNotifications } from '@/shared/notifications/NotificationContext';
import { Button } from './Button';

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const { showNotification } = useNotifications();
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      showNotification('Copied to the clipboard', 'success');
    } catch {
      showNotification('Copying is not allowed here: select the text and copy it', 'warning');
    }
  };
  return (
    <Button variant="secondary" onClick={() => void copy()}>
      {label}
    </Button>
  );
}
