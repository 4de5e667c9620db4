// Deleted files: restore or delete for good; empty the trash.

import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useNotifications } from '@/shared/notifications/NotificationContext';
import { PageContainer } from '@/shared/components/PageContainer';
import { Button } from '@/shared/components/Button';
import { useConfirm } from '@/shared/components/ConfirmDialog';
import { EmptyState, Loading, NotAvailable } from '@/shared/components/Feedback';
import { filesService } from '../services/filesService';
import { useFileList } from '../hooks/useFileList';
import { FileList } from './FileViews';
import type { FileRecord } from '../types';

export default function TrashPage() {
  const { can } = useSession();
  const { showNotification, notifyError } = useNotifications();
  const { confirm, dialog: confirmDialog } = useConfirm();
  const list = useFileList({ sort: 'deleted_at', order: 'desc' }, true);
  const mayDelete = can(perms.filesDelete);

  const restore = async (f: FileRecord): Promise<void> => {
    try {
      await filesService.restore(f.id);
      showNotification(`${f.filename} restored`, 'success');
      list.reload();
    } catch (err) {
      notifyError(err, 'The file was not restored');
    }
  };
  const purge = async (f: FileRecord): Promise<void> => {
    if (!(await confirm({ title: 'Delete for good', message: `Delete ${f.filename} for good? This cannot be undone.`, confirmLabel: 'Delete for good' }))) return;
    try {
      await filesService.purge(f.id);
      showNotification(`${f.filename} deleted for good`, 'success');
      list.reload();
    } catch (err) {
      notifyError(err, 'The file was not deleted');
    }
  };
  const empty = async (): Promise<void> => {
    if (!(await confirm({ title: 'Empty the trash', message: 'Delete every file in the trash for good? This cannot be undone.', confirmLabel: 'Empty trash' }))) return;
    try {
      let more = true;
      let n = 0;
      for (let i = 0; more && i < 100; i++) {
        const r = await filesService.emptyTrash();
        n += r.purged;
        more = r.more;
      }
      showNotification(`${n} file${n === 1 ? '' : 's'} deleted for good`, 'success');
      list.reload();
    } catch (err) {
      notifyError(err, 'The trash was not emptied');
    }
  };

  return (
    <PageContainer
      title="Trash"
      description="Deleted files stay here until the trash is emptied or they expire."
      actions={
        mayDelete ? (
          <Button variant="danger" onClick={() => void empty()} disabled={list.files.length === 0}>
            Empty trash
          </Button>
        ) : null
      }
    >
      {list.notFound ? <NotAvailable what="File management" /> : null}
      {list.loading && list.files.length === 0 && !list.notFound ? <Loading label="Loading the trash" /> : null}
      {!list.loading && !list.notFound && list.files.length === 0 ? <EmptyState title="The trash is empty" /> : null}
      {list.files.length > 0 ? (
        <FileList
          files={list.files}
          height={Math.max(320, window.innerHeight - 260)}
          trash
          actions={(f) =>
            mayDelete ? (
              <>
                <Button variant="ghost" onClick={() => void restore(f)} aria-label={`Restore ${f.filename}`}>
                  Restore
                </Button>
                <Button variant="ghost" onClick={() => void purge(f)} aria-label={`Delete ${f.filename} for good`}>
                  Delete
                </Button>
              </>
            ) : null
          }
        />
      ) : null}
      {confirmDialog}
    </PageContainer>
  );
}
