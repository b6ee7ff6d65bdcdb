package org.massline

import java.io.File
import java.io.InputStream
import java.io.OutputStream
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.withContext
import org.massline.ffi.CreditedStudy
import org.massline.ffi.HistoryItem
import org.massline.ffi.Identity
import org.massline.ffi.MasslineException
import org.massline.ffi.RecordRow
import org.massline.ffi.Status
import org.massline.ffi.Store
import org.massline.ffi.SyncProgress
import org.massline.ffi.SyncReport
import org.massline.ffi.VillageCampaign
import org.massline.ffi.maxBundleBytes
import org.massline.model.Lang
import org.massline.model.Record
import org.massline.model.RecordKind
import org.massline.model.TodoItem
import org.massline.model.Warning

/**
 * Records that a sync brought to this device or changed on it.
 *
 * @property ids the records' ids; read them with [MasslineStore.get].
 * @property report the whole report of the sync that changed them.
 */
data class SyncChanges(val ids: List<String>, val report: SyncReport)

/**
 * The device's store of records and its sync with the township server.
 *
 * Every function is a `suspend` function that is safe to call from any thread
 * or coroutine, the main thread included: database work runs on [dispatcher]
 * (by default [Dispatchers.IO]), and the network work of [enroll] and [sync]
 * on the library's own threads. Errors are [MasslineException] subclasses.
 *
 * Close the store when done with it; a closed store refuses further calls.
 */
class MasslineStore private constructor(
    private val core: Store,
    private val dispatcher: CoroutineDispatcher,
) : AutoCloseable {

    companion object {
        /**
         * Opens the store in [file], creating it on first use.
         *
         * With [key] (32 random bytes, kept wrapped by an Android Keystore key:
         * see mobile/README.md) the store is encrypted. That needs the library
         * built with the `sqlcipher` feature; without it, and with a wrong key,
         * a missing one or one given for a store that is not encrypted, this
         * throws [MasslineException.StoreKey]. Wipe the array after the call
         * (`key.fill(0)`): the library keeps its own copy.
         */
        suspend fun open(
            file: File,
            key: ByteArray? = null,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): MasslineStore =
            withContext(dispatcher) { MasslineStore(Store.open(file.path, key), dispatcher) }
    }

    private val changesFlow = MutableSharedFlow<SyncChanges>(extraBufferCapacity = 64)

    /**
     * Records changed by sync (made or edited on other devices), one event per
     * sync that changed any. Collect it to refresh what the screen shows.
     */
    val changes: SharedFlow<SyncChanges> = changesFlow.asSharedFlow()

    private val todoFlow = MutableSharedFlow<TodoItem>(extraBufferCapacity = 256)

    /**
     * Each to-do item once, when it first shows after a sync or an edit made
     * through this object (in Chinese; see [todo] for the whole list in either
     * language). An item keeps its [TodoItem.id] while it stands for the same
     * reason, so an app can post it as a notification and not repeat it; ids
     * raised are remembered while this object lives, and an app that keeps
     * them across restarts compares them itself.
     */
    val newTodos: SharedFlow<TodoItem> = todoFlow.asSharedFlow()

    private val raised = HashSet<String>()

    private suspend fun raiseTodos() {
        val items = try {
            io { core.todo(Lang.ZH) }
        } catch (e: MasslineException.NotEnrolled) {
            return
        }
        for (item in items) {
            if (synchronized(raised) { raised.add(item.id) }) {
                todoFlow.emit(item)
            }
        }
    }

    private suspend fun <T> io(block: () -> T): T = withContext(dispatcher) { block() }

    private suspend fun <T> edits(block: () -> T): T = io(block).also { raiseTodos() }

    /** Who this device is enrolled as, or `null` before enrollment. */
    suspend fun identity(): Identity? = io { core.identity() }

    /**
     * Enrols this device with the [code] from the township office (the text of
     * its QR code). [addressOverride] replaces the server address in the code.
     */
    suspend fun enroll(code: String, deviceName: String, addressOverride: String? = null): Identity =
        withContext(dispatcher) { core.enroll(code, addressOverride, deviceName) }

    /**
     * Saves a new record and queues it for sync; returns its id. A township
     * officer names the [village]; everyone else records for their own.
     */
    suspend fun create(record: Record, village: String? = null): String = edits { core.create(record, village) }

    /**
     * Saves an edit: [base] is the record as the person read it, [edited] as
     * they left it. Only what they changed is written, on top of whatever
     * sync brought meanwhile. Returns the record as it now stands.
     */
    suspend fun update(id: String, base: Record, edited: Record): Record = edits { core.update(id, base, edited) }

    /** Edits the record as it stands now: [change] gets it and returns it changed. */
    suspend fun edit(id: String, change: (Record) -> Record): Record = edits {
        val current = core.get(id).record ?: throw MasslineException.NotFound("$id (it does not read as a record)")
        core.update(id, current, change(current))
    }

    /**
     * Withdraws a record entered by mistake, giving the [reason]. It leaves
     * [list] (not [listAll]) and keeps its history; the withdrawal syncs.
     */
    suspend fun withdraw(id: String, reason: String) = edits { core.withdraw(id, reason) }

    /**
     * Makes an opinion or a service request ([record]) of the demand [demand]
     * of the visit [visit], and links the two. Returns the new record's id.
     */
    suspend fun makeFromDemand(visit: String, demand: String, record: Record): String =
        edits { core.makeFromDemand(visit, demand, record) }

    /** Every change of a record, oldest first: who, when, which fields. */
    suspend fun history(id: String): List<HistoryItem> = io { core.history(id) }

    /** One record. */
    suspend fun get(id: String): RecordRow = io { core.get(id) }

    /** Records of one kind (such as [RecordKind.STUDY_ENTRY]), or all; newest first. */
    suspend fun list(kind: RecordKind? = null): List<RecordRow> = io { core.list(kind) }

    /** As [list], withdrawn records included. */
    suspend fun listAll(kind: RecordKind? = null): List<RecordRow> = io { core.listAll(kind) }

    /** The study credited to each person, or to [person]: own entries and sessions attended. */
    suspend fun studyLog(person: String? = null): List<CreditedStudy> = io { core.studyLog(person) }

    /** What the village is asked to keep but need not (3 to 5 practical things). */
    suspend fun warnings(): List<Warning> = io { core.warnings() }

    /**
     * This person's to-do list today, from the records on this device (no
     * server needed): why each item is listed, in [lang], the record it is
     * about, and an id that stays the same while it stands.
     */
    suspend fun todo(lang: Lang = Lang.ZH): List<TodoItem> = io { core.todo(lang) }

    /**
     * Where each village this device holds stands in the campaign today: its
     * phase, and the phases it is behind the township's plan in (the
     * person's own village; every village on a township officer's device).
     */
    suspend fun campaign(): List<VillageCampaign> = io { core.campaign() }

    /** The full id of the record whose id starts with [prefix]. */
    suspend fun resolve(prefix: String): String = io { core.resolve(prefix) }

    /**
     * Syncs with the township server: pushes what this device recorded and
     * pulls what others did. Nothing recorded is lost if it fails
     * ([MasslineException.Network]); call it again later. Emits on [changes]
     * when records changed, and on [newTodos] for each new to-do item.
     */
    suspend fun sync(): SyncReport {
        val report = withContext(dispatcher) { core.sync() }
        if (report.changed.isNotEmpty()) {
            changesFlow.emit(SyncChanges(report.changed, report))
        }
        raiseTodos()
        return report
    }

    /**
     * Writes a sync bundle to [out], for a place with no link: the changes the
     * server has not acknowledged and what this device would pull, authenticated
     * with the device's credentials. Share it (a chat attachment, a file) with
     * the township office; import its reply with [importBundle]. Returns the
     * bundle's size in bytes. [out] is left open.
     */
    suspend fun exportBundle(out: OutputStream): Int = io {
        val bytes = core.exportBundle()
        out.write(bytes)
        out.flush()
        bytes.size
    }

    /**
     * Reads the township's reply to the last exported bundle from [input] and
     * takes it in as a sync would: acknowledged changes leave the outbox,
     * others' changes arrive (and are announced on [changes]). A reply for
     * another device or bundle, changed on the way, cut short or too large
     * throws [MasslineException.Bundle] and changes nothing; importing it twice
     * is harmless. At most the bundle limit (and one byte) is read. [input] is
     * left open.
     */
    suspend fun importBundle(input: InputStream): SyncReport {
        val report = io {
            // One byte past the limit is enough for the library to refuse it.
            val most = maxBundleBytes().toInt() + 1
            core.importBundle(input.readNBytes(most))
        }
        if (report.changed.isNotEmpty()) {
            changesFlow.emit(SyncChanges(report.changed, report))
        }
        raiseTodos()
        return report
    }

    /** What is on the device and where sync stands (unsent changes, last error, …). */
    suspend fun status(): Status = io { core.status() }

    /**
     * How far the running sync is (changes sent of those waiting, changes
     * received, bytes both ways), looked at every [periodMillis] for as long
     * as it is collected, for a progress bar; a figure that did not move is
     * not emitted again. `running` turns false when the sync is over.
     */
    fun syncProgress(periodMillis: Long = 250): Flow<SyncProgress> = flow {
        while (true) {
            emit(core.progress())
            delay(periodMillis)
        }
    }.distinctUntilChanged()

    /** Releases the native store. */
    override fun close() = core.close()
}
